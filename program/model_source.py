"""Which ARN an application inference profile copies from, for a configured Bedrock model.

An application inference profile (``aws.bedrock.InferenceProfile``) is the taggable resource a
stack declares for on-demand Bedrock use: it tracks cost per application and carries the
``cost:*`` tags. Its ``modelSource.copyFrom`` is either

* a foundation-model ARN, ``arn:aws:bedrock:<region>::foundation-model/<model id>`` — for
  models served on demand in the region itself; or
* a system-defined (cross-Region) inference profile ARN,
  ``arn:aws:bedrock:<region>:<account>:inference-profile/<geo>.<model id>`` — for models that
  are only offered through cross-Region inference. Note the account id: unlike foundation
  models, system-defined profiles are addressed per account.

DeepSeek-R1 (``deepseek.r1-v1:0``) is in the second group: the Bedrock user guide ("DeepSeek
models") says it "is invoked through cross-Region inference, you will need to use the
Inference profile ID as the model ID. For example, for the US, you will use
us.deepseek.r1-v1:0". So in us-east-1 the raw ``deepseek.r1-v1:0`` is *not* invocable on
demand, and the reference stack copies from ``us.deepseek.r1-v1:0``.

Models not listed in :data:`CROSS_REGION_ONLY` use their foundation-model ARN; set
``bedrockInferenceProfileId`` (or give a geo-prefixed id as ``bedrockModelId``) to pick a
system-defined profile for any other model.
"""

from __future__ import annotations

from dataclasses import dataclass

# Models AWS serves only through cross-Region (system-defined) inference profiles. Kept short
# on purpose: only entries checked against the Bedrock documentation belong here.
CROSS_REGION_ONLY: frozenset[str] = frozenset({"deepseek.r1-v1:0"})

GEO_PREFIXES: tuple[str, ...] = ("us-gov", "us", "eu", "apac", "ca", "jp", "au", "global")


@dataclass(frozen=True)
class ModelSource:
    """Where the application inference profile's requests go."""

    foundation_model_id: str  # e.g. deepseek.r1-v1:0
    system_profile_id: str | None  # e.g. us.deepseek.r1-v1:0, or None for an in-region model

    def copy_from_arn(self, *, partition: str, region: str, account_id: str) -> str:
        if self.system_profile_id is not None:
            profile = self.system_profile_id
            return f"arn:{partition}:bedrock:{region}:{account_id}:inference-profile/{profile}"
        return f"arn:{partition}:bedrock:{region}::foundation-model/{self.foundation_model_id}"

    def invoke_resource_arns(self, *, partition: str, region: str, account_id: str) -> list[str]:
        """ARNs a role needs ``bedrock:InvokeModel`` on besides the application profile itself.

        A cross-Region profile routes to the foundation model in several destination regions,
        so the model is granted in every region (``*``), plus the system-defined profile.
        """
        if self.system_profile_id is None:
            return [self.copy_from_arn(partition=partition, region=region, account_id=account_id)]
        return [
            self.copy_from_arn(partition=partition, region=region, account_id=account_id),
            f"arn:{partition}:bedrock:*::foundation-model/{self.foundation_model_id}",
        ]


def geo_prefix(region: str) -> str:
    """The cross-Region profile prefix for a source region: us-east-1 → ``us``, ap-south-1 →
    ``apac``."""
    if region.startswith("us-gov-"):
        return "us-gov"
    head = region.split("-", 1)[0]
    return {"ap": "apac"}.get(head, head)


def split_profile_id(model_id: str) -> tuple[str | None, str]:
    """``us.deepseek.r1-v1:0`` → (``us``, ``deepseek.r1-v1:0``); a plain model id → (None, id)."""
    for prefix in GEO_PREFIXES:
        if model_id.startswith(prefix + "."):
            return prefix, model_id[len(prefix) + 1 :]
    return None, model_id


def resolve(model_id: str, region: str, profile_override: str | None = None) -> ModelSource:
    """The model source for ``model_id`` used from ``region``.

    ``profile_override`` (config ``bedrockInferenceProfileId``) wins; a geo-prefixed
    ``model_id`` is itself a system-defined profile id; models in :data:`CROSS_REGION_ONLY`
    get the profile for the region's geography; anything else is an in-region model.
    """
    if profile_override:
        _, foundation = split_profile_id(profile_override)
        return ModelSource(foundation, profile_override)
    prefix, foundation = split_profile_id(model_id)
    if prefix is not None:
        return ModelSource(foundation, model_id)
    if foundation in CROSS_REGION_ONLY:
        return ModelSource(foundation, f"{geo_prefix(region)}.{foundation}")
    return ModelSource(foundation, None)
