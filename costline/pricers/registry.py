"""Which pricer prices which Pulumi resource type, and which types cost nothing by themselves.

An explicit table (no registration by import side effect): adding a service is adding one
pricer module and one line here.
"""

from __future__ import annotations

from collections.abc import Mapping

from costline.pricers import (
    apigateway,
    bedrock,
    bedrock_invocation,
    bedrock_provisioned,
    lambda_function,
    lambda_provisioned,
    s3_bucket,
)
from costline.pricers.base import Pricer
from costline.usage import tags as usage

PRICERS: Mapping[str, Pricer] = {
    lambda_function.TYPE: lambda_function.price_lambda_function,
    lambda_provisioned.CONFIG_TYPE: lambda_provisioned.price_provisioned_concurrency,
    apigateway.REST_API_TYPE: apigateway.price_rest_api,
    apigateway.REST_STAGE_TYPE: apigateway.price_rest_stage,
    apigateway.V2_API_TYPE: apigateway.price_v2_api,
    bedrock.INFERENCE_PROFILE_TYPE: bedrock_invocation.price_inference_profile,
    bedrock_provisioned.PROVISIONED_TYPE: bedrock_provisioned.price_provisioned_throughput,
    bedrock_provisioned.CUSTOM_MODEL_TYPE: bedrock_provisioned.price_custom_model,
    **dict.fromkeys(s3_bucket.BUCKET_TYPES, s3_bucket.price_s3_bucket),
}

FREE_TYPES: frozenset[str] = frozenset(
    {
        "pulumi:pulumi:Stack",
        "aws:iam/role:Role",
        "aws:iam/policy:Policy",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:lambda/permission:Permission",
        "aws:lambda/alias:Alias",
        "aws:apigateway/resource:Resource",
        "aws:apigateway/method:Method",
        "aws:apigateway/methodResponse:MethodResponse",
        "aws:apigateway/methodSettings:MethodSettings",
        "aws:apigateway/integration:Integration",
        "aws:apigateway/integrationResponse:IntegrationResponse",
        "aws:apigateway/deployment:Deployment",
        "aws:apigateway/account:Account",
        "aws:apigatewayv2/integration:Integration",
        "aws:apigatewayv2/route:Route",
        "aws:apigatewayv2/stage:Stage",
        "aws:apigatewayv2/deployment:Deployment",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
        "aws:s3/bucketVersioningV2:BucketVersioningV2",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    }
)


def is_free(resource_type: str) -> bool:
    """Free by itself: providers and the types listed above."""
    return resource_type in FREE_TYPES or resource_type.startswith("pulumi:providers:")


_REQUESTS = (usage.MONTHLY_REQUESTS,)
_TOKENS = (
    usage.INPUT_TOKENS,
    usage.OUTPUT_TOKENS,
    usage.BEDROCK_MODEL,
    usage.BEDROCK_MODE,
    usage.CACHE_READ_TOKENS,
    usage.CACHE_WRITE_TOKENS,
)
USAGE_KEYS: Mapping[str, tuple[usage.UsageTag, ...]] = {
    lambda_function.TYPE: (
        *_REQUESTS,
        usage.AVG_DURATION_MS,
        usage.INIT_DURATION_MS,
        usage.COLD_START_PERCENT,
        usage.GETS_PER_REQUEST,
    ),
    lambda_provisioned.CONFIG_TYPE: (usage.ACTIVE_HOURS_PER_DAY, usage.DAYS_PER_MONTH),
    apigateway.REST_API_TYPE: _REQUESTS,
    apigateway.REST_STAGE_TYPE: _REQUESTS,
    apigateway.V2_API_TYPE: (
        *_REQUESTS,
        usage.AVG_REQUEST_KB,
        usage.MONTHLY_MESSAGES,
        usage.MONTHLY_CONNECTION_MINUTES,
    ),
    bedrock.INFERENCE_PROFILE_TYPE: (
        *_REQUESTS,
        *_TOKENS,
        usage.IMAGES_PER_REQUEST,
        usage.IMAGE_VARIANT,
    ),
    bedrock_provisioned.CUSTOM_MODEL_TYPE: (usage.TRAINING_TOKENS,),
    **dict.fromkeys(
        s3_bucket.BUCKET_TYPES,
        (
            usage.STORAGE_GB,
            usage.MONTHLY_GET_REQUESTS,
            usage.MONTHLY_PUT_REQUESTS,
            usage.MONTHLY_TRANSFER_OUT_GB,
            usage.RETENTION_DAYS,
            usage.MONTHLY_RETRIEVAL_GB,
        ),
    ),
}
"""Priced type -> the usage keys that set its cost, most important first (what ``costline
usage init`` offers for a resource of that type). Provisioned Throughput has none: it bills
for the model units it declares."""
