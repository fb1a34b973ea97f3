"""Generated stacks of any size, shaped like the ones teams declare, for scale tests and benchmarks.

:func:`service` is one copy of the reference stack's service (``program/``): a REST API with a
stage, its plumbing (resource, method, integration, deployment, permission), a Lambda with its
role and policies, a Bedrock inference profile and an S3 bucket with its settings — 15
resources, 5 of them priced. Traffic is declared once, on the stage, and flows through the graph
(:mod:`costline.usage.traffic`) to the Lambda, the profile and the bucket, as the README recommends.
Each copy declares a different traffic figure, so no two services price alike.

:func:`services_stack` gives exactly ``n`` resources (whole services, the last one cut short)
after the stack and its AWS provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from costline.core.model import Resource

PROJECT = "costline-scale"
STACK = "dev"
DEEPSEEK_PROFILE_ARN = "arn:aws:bedrock:us-east-1::inference-profile/us.deepseek.r1-v1:0"


def urn(type_token: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{type_token}::{name}"


def _res(
    type_token: str,
    name: str,
    properties: Mapping[str, Any] | None = None,
    deps: Mapping[str, list[str]] | None = None,
) -> Resource:
    property_dependencies = {k: tuple(v) for k, v in (deps or {}).items()}
    return Resource(
        urn=urn(type_token, name),
        type=type_token,
        name=name,
        properties=dict(properties or {}),
        dependencies=tuple(dict.fromkeys(u for v in property_dependencies.values() for u in v)),
        property_dependencies=property_dependencies,
    )


def service(i: int) -> list[Resource]:
    """The ``i``-th service: 15 resources, traffic ``100 + i`` requests a day on its stage."""
    api = _res("aws:apigateway/restApi:RestApi", f"api-{i}", {"name": f"api-{i}"})
    proxy = _res(
        "aws:apigateway/resource:Resource",
        f"proxy-{i}",
        {"pathPart": "{proxy+}"},
        {"restApi": [api.urn], "parentId": [api.urn]},
    )
    method = _res(
        "aws:apigateway/method:Method",
        f"proxy-any-{i}",
        {"httpMethod": "ANY", "authorization": "NONE"},
        {"restApi": [api.urn], "resourceId": [proxy.urn]},
    )
    profile = _res(
        "aws:bedrock/inferenceProfile:InferenceProfile",
        f"model-{i}",
        {"name": f"model-{i}", "modelSource": {"copyFrom": DEEPSEEK_PROFILE_ARN}},
    )
    role = _res("aws:iam/role:Role", f"handler-role-{i}", {"assumeRolePolicy": "{}"})
    attachment = _res(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        f"handler-basic-{i}",
        {"policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},
        {"role": [role.urn]},
    )
    bucket = _res(
        "aws:s3/bucket:Bucket",
        f"artifacts-{i}",
        {"tags": {"cost:storage-gb": str(10 + i % 50), "cost:monthly-put-requests": "100"}},
    )
    policy = _res(
        "aws:iam/rolePolicy:RolePolicy",
        f"handler-invoke-{i}",
        {"policy": "{}"},
        {"role": [role.urn], "policy": [profile.urn, bucket.urn]},
    )
    handler = _res(
        "aws:lambda/function:Function",
        f"handler-{i}",
        {
            "memorySize": 512,
            "timeout": 30,
            "architectures": ["x86_64"],
            "runtime": "python3.12",
            "environment": {"variables": {"PROFILE_ARN": "arn", "BUCKET": f"artifacts-{i}"}},
            "tags": {
                "cost:avg-duration-ms": str(200 + i % 800),
                "cost:input-tokens": "500",
                "cost:output-tokens": "500",
            },
        },
        {"role": [role.urn], "environment": [profile.urn, bucket.urn]},
    )
    integration = _res(
        "aws:apigateway/integration:Integration",
        f"proxy-lambda-{i}",
        {"type": "AWS_PROXY", "integrationHttpMethod": "POST"},
        {
            "restApi": [api.urn],
            "resourceId": [proxy.urn],
            "httpMethod": [method.urn],
            "uri": [handler.urn],
        },
    )
    deployment = _res(
        "aws:apigateway/deployment:Deployment",
        f"deployment-{i}",
        {},
        {"restApi": [api.urn], "triggers": [integration.urn]},
    )
    stage = _res(
        "aws:apigateway/stage:Stage",
        f"dev-{i}",
        {"stageName": "dev", "tags": {"cost:daily-requests": str(100 + i)}},
        {"restApi": [api.urn], "deployment": [deployment.urn]},
    )
    permission = _res(
        "aws:lambda/permission:Permission",
        f"invoke-{i}",
        {"action": "lambda:InvokeFunction", "principal": "apigateway.amazonaws.com"},
        {"function": [handler.urn], "sourceArn": [api.urn]},
    )
    public_access = _res(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        f"artifacts-pab-{i}",
        {"blockPublicAcls": True},
        {"bucket": [bucket.urn]},
    )
    versioning = _res(
        "aws:s3/bucketVersioning:BucketVersioning",
        f"artifacts-versioning-{i}",
        {"versioningConfiguration": {"status": "Enabled"}},
        {"bucket": [bucket.urn]},
    )
    return [
        api,
        proxy,
        method,
        profile,
        role,
        attachment,
        bucket,
        policy,
        handler,
        integration,
        deployment,
        stage,
        permission,
        public_access,
        versioning,
    ]


def services_stack(n: int) -> list[Resource]:
    """Exactly ``n`` resources: the stack, its AWS provider, then services ``0, 1, ...``."""
    head = [
        _res("pulumi:pulumi:Stack", f"{PROJECT}-{STACK}"),
        _res("pulumi:providers:aws", "default", {"region": "us-east-1"}),
    ]
    resources = head[:n]
    i = 0
    while len(resources) < n:
        resources.extend(service(i)[: n - len(resources)])
        i += 1
    return resources
