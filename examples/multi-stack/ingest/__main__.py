"""The ingest service of the multi-stack example: an uploads bucket and a processing Lambda.

No ``cost:*`` tags here: ``Pulumi.dev.yaml`` and ``Pulumi.prod.yaml`` declare each stack's usage
under ``costline:usage`` (keyed by these resource names) and its budget as ``costline:budget``.
"""

import json

import pulumi
import pulumi_aws as aws

uploads = aws.s3.Bucket("uploads")

role = aws.iam.Role(
    "processor-role",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    ),
)

processor = aws.lambda_.Function(
    "processor",
    runtime="python3.12",
    handler="index.handler",
    role=role.arn,
    memory_size=1024,
    timeout=10,
    architectures=["arm64"],
    code=pulumi.AssetArchive(
        {"index.py": pulumi.StringAsset("def handler(event, context):\n    return None\n")}
    ),
    environment={"variables": {"UPLOADS_BUCKET": uploads.bucket}},
)

pulumi.export("uploads_bucket", uploads.bucket)
