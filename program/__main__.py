"""costline reference stack: API Gateway (REST) → Lambda → Amazon Bedrock, with an S3 artifacts
bucket.

The stack of the seed cost template: 10 developers × 100 API calls a day, each call running a
512 MB Lambda for about 1 s that sends ~500 input tokens to a Bedrock model and gets ~500 output
tokens back, plus a bucket of model artifacts. Expected traffic is declared as ``cost:*`` tags
computed from the stack config below, so costline can price the stack before it is deployed.

Resources: IAM role (+ basic-execution attachment, + inline policy for Bedrock and the bucket),
Lambda function (python3.12, handler in ``handler/``), REST API with a ``{proxy+}`` resource,
``ANY`` method, ``AWS_PROXY`` integration, deployment and stage, the Lambda permission for API
Gateway, a Bedrock application inference profile, and the S3 bucket (versioned, no public access).

Stack config (``costline-reference:<key>``; see ``Pulumi.dev.yaml``):

==========================  ========  =========================================================
key                         default   meaning
==========================  ========  =========================================================
developers                  required  people calling the API (whole number > 0)
callsPerDeveloperPerDay     required  API calls per developer per day (> 0)
inputTokensPerCall          required  Bedrock input tokens per call (whole number > 0)
outputTokensPerCall         required  Bedrock output tokens per call (whole number > 0)
bedrockModelId              required  Bedrock model id, e.g. ``deepseek.r1-v1:0``; a geo-prefixed
                                      id (``us.…``) names a cross-Region profile directly
bedrockInferenceProfileId   derived   system-defined profile to copy from (``us.deepseek.r1-v1:0``);
                                      derived for models that need one (see ``model_source.py``)
lambdaAvgDurationMs         required  average handler run time per call, ms (> 0, ≤ timeout)
lambdaMemoryMb              512       Lambda memory, 128–10240 MB
lambdaTimeoutSeconds        30        Lambda timeout, 1–900 s
lambdaArchitecture          x86_64    ``x86_64`` or ``arm64``
artifactStorageGb           required  GB kept in the artifacts bucket (> 0)
artifactReadsPerCall        1         S3 GETs per API call (the handler reads its system prompt)
artifactPutsPerMonth        100       uploads to the bucket per month
daysPerMonth                (30)      days of traffic per month; only tagged when set (1–31)
owner                       platform-team  value of the plain ``owner`` tag
apiKey (secret)             unset     when set, callers must send it as ``x-api-key``
==========================  ========  =========================================================

``aws:region`` picks the region (us-east-1 for the reference stack).

Tags written (all values plain decimal strings): REST API and stage ``cost:daily-requests``;
Lambda ``cost:daily-requests``, ``cost:avg-duration-ms``, ``cost:bedrock-model``,
``cost:input-tokens``, ``cost:output-tokens``; inference profile ``cost:daily-requests``,
``cost:input-tokens``, ``cost:output-tokens``, ``cost:bedrock-model``; bucket
``cost:storage-gb``, ``cost:monthly-get-requests`` (calls per month × reads per call) and
``cost:monthly-put-requests``. ``cost:days-per-month`` joins the traffic tags when
``daysPerMonth`` is set. Every taggable resource also gets ``project``, ``stack`` and ``owner``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import model_source
import pulumi
import pulumi_aws as aws
from usage import load_settings, plain

HANDLER_DIR = Path(__file__).resolve().parent / "handler"
BASIC_EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
SYSTEM_PROMPT_KEY = "prompts/system.txt"

config = pulumi.Config()
settings = load_settings(config.get)
api_key = config.get_secret("apiKey")
project, stack = pulumi.get_project(), pulumi.get_stack()
base_tags = settings.base_tags(project, stack)

region = aws.get_region_output().region
partition = aws.get_partition_output().partition
account_id = aws.get_caller_identity_output().account_id
# Where the model's requests go depends on the region (the cross-Region profile's geography).
source = region.apply(
    lambda reg: model_source.resolve(
        settings.bedrock_model_id, reg, settings.bedrock_inference_profile_id
    )
)

# --- S3: model artifacts -------------------------------------------------------------------
bucket = aws.s3.Bucket("artifacts", tags={**base_tags, **settings.bucket_tags()})
aws.s3.BucketVersioning(
    "artifacts-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"}
)
aws.s3.BucketPublicAccessBlock(
    "artifacts-public-access",
    bucket=bucket.id,
    block_public_acls=True,
    block_public_policy=True,
    ignore_public_acls=True,
    restrict_public_buckets=True,
)

# --- Bedrock: the application inference profile the Lambda invokes -------------------------
# DeepSeek-R1 is only offered through cross-Region inference: in us-east-1 the bare
# `deepseek.r1-v1:0` cannot be invoked on demand, so the profile copies from the system-defined
# profile `us.deepseek.r1-v1:0` (its ARN carries the account id). model_source.py decides.
copy_from = pulumi.Output.all(source, partition, region, account_id).apply(
    lambda args: args[0].copy_from_arn(partition=args[1], region=args[2], account_id=args[3])
)
profile = aws.bedrock.InferenceProfile(
    "model",
    name=f"{project}-{stack}-model",
    # the description allows letters, digits, . : - _ and spaces only
    description=f"{settings.bedrock_model_id} for {project} {stack}",
    model_source={"copy_from": copy_from},
    tags={**base_tags, **settings.inference_profile_tags()},
)

# --- IAM: the Lambda's role ------------------------------------------------------------------
role = aws.iam.Role(
    "api-handler-role",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                }
            ],
        }
    ),
    tags=base_tags,
)
basic_execution = aws.iam.RolePolicyAttachment(
    "api-handler-basic-execution", role=role.name, policy_arn=BASIC_EXECUTION_POLICY
)


def _invoke_policy(args: list) -> str:
    profile_arn, bucket_arn, src, part, reg, account = args
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "InvokeModel",
                    "Effect": "Allow",
                    "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
                    "Resource": [
                        profile_arn,
                        *src.invoke_resource_arns(partition=part, region=reg, account_id=account),
                    ],
                },
                {
                    "Sid": "ReadArtifacts",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject"],
                    "Resource": [f"{bucket_arn}/*"],
                },
            ],
        }
    )


invoke_policy = aws.iam.RolePolicy(
    "api-handler-invoke-model",
    role=role.id,
    policy=pulumi.Output.all(profile.arn, bucket.arn, source, partition, region, account_id).apply(
        _invoke_policy
    ),
)

# --- Lambda ------------------------------------------------------------------------------------
environment = {
    "BEDROCK_MODEL_ID": profile.arn,
    "ARTIFACT_BUCKET": bucket.bucket,
    "SYSTEM_PROMPT_KEY": SYSTEM_PROMPT_KEY,
    "MAX_OUTPUT_TOKENS": "2048",
}
if api_key is not None:
    environment["API_KEY"] = api_key

function = aws.lambda_.Function(
    "api-handler",
    runtime="python3.12",
    handler="app.handler",
    role=role.arn,
    memory_size=settings.lambda_memory_mb,
    timeout=settings.lambda_timeout_s,
    architectures=[settings.lambda_architecture],
    code=pulumi.AssetArchive({"app.py": pulumi.StringAsset((HANDLER_DIR / "app.py").read_text())}),
    environment={"variables": environment},
    tags={**base_tags, **settings.lambda_tags()},
    opts=pulumi.ResourceOptions(depends_on=[basic_execution, invoke_policy]),
)

# --- API Gateway (REST): ANY /{proxy+} → Lambda ------------------------------------------------
api = aws.apigateway.RestApi(
    "api",
    description=f"{project} ({stack}): prompts in, Bedrock completions out",
    endpoint_configuration={"types": "REGIONAL"},
    tags={**base_tags, **settings.api_tags()},
)
proxy = aws.apigateway.Resource(
    "proxy", rest_api=api.id, parent_id=api.root_resource_id, path_part="{proxy+}"
)
method = aws.apigateway.Method(
    "proxy-any", rest_api=api.id, resource_id=proxy.id, http_method="ANY", authorization="NONE"
)
integration = aws.apigateway.Integration(
    "proxy-lambda",
    rest_api=api.id,
    resource_id=proxy.id,
    http_method=method.http_method,
    integration_http_method="POST",  # Lambda is always invoked with POST
    type="AWS_PROXY",
    uri=function.invoke_arn,
)
deployment = aws.apigateway.Deployment(
    "api-deployment",
    rest_api=api.id,
    # Redeploy whenever the routes change.
    triggers={
        "redeployment": pulumi.Output.all(proxy.id, method.id, integration.id).apply(
            lambda ids: hashlib.sha1(json.dumps(ids).encode()).hexdigest()
        )
    },
    opts=pulumi.ResourceOptions(depends_on=[method, integration]),
)
stage = aws.apigateway.Stage(
    "dev",
    rest_api=api.id,
    deployment=deployment.id,
    stage_name="dev",
    tags={**base_tags, **settings.api_tags()},
)
aws.lambda_.Permission(
    "api-invoke-handler",
    action="lambda:InvokeFunction",
    function=function.name,
    principal="apigateway.amazonaws.com",
    source_arn=api.execution_arn.apply(lambda arn: f"{arn}/*/*"),
)

pulumi.export("apiUrl", stage.invoke_url)
pulumi.export("modelArn", profile.arn)
pulumi.export("artifactBucket", bucket.bucket)
pulumi.export("expectedMonthlyRequests", plain(settings.monthly_requests))
