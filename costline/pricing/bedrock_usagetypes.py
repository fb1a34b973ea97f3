"""Which costline Bedrock price a usagetype of AWS's Bedrock offer files is.

AWS publishes Bedrock prices in three offers, each with its own usagetype grammar (after the
region prefix such as ``USE1-``):

* ``AmazonBedrock`` (unit ``1K tokens``): ``<Model>-input-tokens``, ``<Model>-output-tokens``,
  ``<Model>-cache-read-input-token-count``, ``<Model>-cache-write-input-token-count``, with
  modifiers after them: ``-batch``; ``-latency-optimized``, ``-priority``, ``-flex`` and
  ``-custom-model`` are other products costline does not price (skipped).
* ``AmazonBedrockService`` (unit ``1K tokens``): the same grammar, with more modifiers:
  ``USE1-Claude4Sonnet-output-tokens-long-context-cross-region-global``,
  ``USE1-Claude4Sonnet-input-tokens-cross-region-global-batch``.
* ``AmazonBedrockFoundationModels`` (marketplace models; unit ``1M tokens`` or ``Units``, both
  per 1M tokens): the model is named only by ``servicename`` (``Claude Sonnet 4.6 (Amazon
  Bedrock Edition)``) and the usagetype names the dimension:
  ``MP:USE1_InputTokenCount-Units``, ``MP:USE1_OutputTokenCount_Global-Units``,
  ``MP:USE1_CacheReadInputTokenCount-Units``, ``MP:USE1_CacheWriteInputTokenCount-Units``
  (5-minute cache), ``MP:USE1_CacheWrite1hInputTokenCount_Global-Units``,
  ``MP:USE1_InputTokenCount_Batch-Units`` and, for newer models,
  ``MP:USE1_input_tokens_standard-Units`` / ``MP:USE1_cache_write_tokens_1h_global_standard-Units``.

These shapes are as quoted from Price List and Cost and Usage Report data in public repositories
(2026; see ``tests/fixtures/price-list/README.md``). A usagetype that fits none of them, or a
model costline has no id for, is reported as skipped, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["BEDROCK_MODELS", "FOUNDATION_MODELS", "BedrockUsage", "parse_bedrock_usagetype"]

Model = tuple[str, str, str, str]
"""(model id, provider, model name, kind)."""


def _text(model_id: str, provider: str, name: str) -> Model:
    return (model_id, provider, name, "text")


BEDROCK_MODELS: Mapping[str, Model] = {
    "Claude3Haiku": _text("anthropic.claude-3-haiku-20240307-v1:0", "Anthropic", "Claude 3 Haiku"),
    "Claude3.5Haiku": _text(
        "anthropic.claude-3-5-haiku-20241022-v1:0", "Anthropic", "Claude 3.5 Haiku"
    ),
    "Claude3.5Sonnet": _text(
        "anthropic.claude-3-5-sonnet-20240620-v1:0", "Anthropic", "Claude 3.5 Sonnet"
    ),
    "Claude3.7Sonnet": _text(
        "anthropic.claude-3-7-sonnet-20250219-v1:0", "Anthropic", "Claude 3.7 Sonnet"
    ),
    "Claude4Sonnet": _text(
        "anthropic.claude-sonnet-4-20250514-v1:0", "Anthropic", "Claude Sonnet 4"
    ),
    "Llama3-8B": _text("meta.llama3-8b-instruct-v1:0", "Meta", "Llama 3 8B Instruct"),
    "Llama3-70B": _text("meta.llama3-70b-instruct-v1:0", "Meta", "Llama 3 70B Instruct"),
    "Llama3-1-8B": _text("meta.llama3-1-8b-instruct-v1:0", "Meta", "Llama 3.1 8B Instruct"),
    "Llama3-1-70B": _text("meta.llama3-1-70b-instruct-v1:0", "Meta", "Llama 3.1 70B Instruct"),
    "Llama3-1-405B": _text("meta.llama3-1-405b-instruct-v1:0", "Meta", "Llama 3.1 405B Instruct"),
    "Llama3-3-70B": _text("meta.llama3-3-70b-instruct-v1:0", "Meta", "Llama 3.3 70B Instruct"),
    "NovaMicro": _text("amazon.nova-micro-v1:0", "Amazon", "Nova Micro"),
    "NovaLite": _text("amazon.nova-lite-v1:0", "Amazon", "Nova Lite"),
    "NovaPro": _text("amazon.nova-pro-v1:0", "Amazon", "Nova Pro"),
    "TitanTextExpress": _text("amazon.titan-text-express-v1", "Amazon", "Titan Text G1 - Express"),
    "TitanTextG1-Lite": _text("amazon.titan-text-lite-v1", "Amazon", "Titan Text G1 - Lite"),
    "Mistral7B": _text("mistral.mistral-7b-instruct-v0:2", "Mistral AI", "Mistral 7B Instruct"),
    "Mixtral8x7B": _text(
        "mistral.mixtral-8x7b-instruct-v0:1", "Mistral AI", "Mixtral 8x7B Instruct"
    ),
    "DeepSeek-R1": _text("deepseek.r1-v1:0", "DeepSeek", "DeepSeek-R1"),
    "deepseek.v3.2": _text("deepseek.v3.2", "DeepSeek", "DeepSeek-V3.2"),
}
"""The ``<Model>`` part of ``AmazonBedrock`` / ``AmazonBedrockService`` usagetypes."""

FOUNDATION_MODELS: Mapping[str, Model] = {
    "Claude 3 Haiku": BEDROCK_MODELS["Claude3Haiku"],
    "Claude 3.5 Haiku": BEDROCK_MODELS["Claude3.5Haiku"],
    "Claude 3.5 Sonnet": BEDROCK_MODELS["Claude3.5Sonnet"],
    "Claude 3.7 Sonnet": BEDROCK_MODELS["Claude3.7Sonnet"],
    "Claude Sonnet 4": BEDROCK_MODELS["Claude4Sonnet"],
    "Claude Opus 4": _text("anthropic.claude-opus-4-20250514-v1:0", "Anthropic", "Claude Opus 4"),
    "Claude Opus 4.1": _text(
        "anthropic.claude-opus-4-1-20250805-v1:0", "Anthropic", "Claude Opus 4.1"
    ),
    "Claude Sonnet 4.5": _text(
        "anthropic.claude-sonnet-4-5-20250929-v1:0", "Anthropic", "Claude Sonnet 4.5"
    ),
    "Claude Haiku 4.5": _text(
        "anthropic.claude-haiku-4-5-20251001-v1:0", "Anthropic", "Claude Haiku 4.5"
    ),
    "Claude Opus 4.5": _text(
        "anthropic.claude-opus-4-5-20251101-v1:0", "Anthropic", "Claude Opus 4.5"
    ),
    "Claude Sonnet 4.6": _text("anthropic.claude-sonnet-4-6", "Anthropic", "Claude Sonnet 4.6"),
    "Claude Opus 4.6": _text("anthropic.claude-opus-4-6-v1", "Anthropic", "Claude Opus 4.6"),
    "Cohere Command R": _text("cohere.command-r-v1:0", "Cohere", "Command R"),
    "Jamba 1.5 Large": _text("ai21.jamba-1-5-large-v1:0", "AI21 Labs", "Jamba 1.5 Large"),
    "Jamba 1.5 Mini": _text("ai21.jamba-1-5-mini-v1:0", "AI21 Labs", "Jamba 1.5 Mini"),
}
"""``servicename`` without `` (Amazon Bedrock Edition)`` -> the model, for the
``AmazonBedrockFoundationModels`` offer."""

EDITION_SUFFIX = " (Amazon Bedrock Edition)"
FOUNDATION_MODELS_UNITS: Mapping[str, Decimal] = {
    "1m tokens": Decimal(1000000),
    "units": Decimal(1000000),
}
"""The FoundationModels offer prices per 1M tokens, whichever of these its unit says."""

_HYPHEN = re.compile(
    r"^(?P<model>.+?)-(?P<kind>input-tokens|output-tokens|cache-read-input-token-count|"
    r"cache-write-input-token-count)(?P<modifiers>(?:-[a-z0-9]+)*)$"
)
_HYPHEN_KINDS = {
    "input-tokens": "input_tokens",
    "output-tokens": "output_tokens",
    "cache-read-input-token-count": "cache_read_tokens",
    "cache-write-input-token-count": "cache_write_tokens",
}
_MARKETPLACE = re.compile(r"^MP:[A-Z0-9]+_(?P<rest>.+)-Units$")
_CAMEL = re.compile(
    r"^(?P<kind>InputTokenCount|OutputTokenCount|CacheReadInputTokenCount|"
    r"CacheWriteInputTokenCount|CacheWrite1hInputTokenCount)(?P<modifiers>(?:_[A-Za-z0-9]+)*)$"
)
_CAMEL_KINDS = {
    "InputTokenCount": "input_tokens",
    "OutputTokenCount": "output_tokens",
    "CacheReadInputTokenCount": "cache_read_tokens",
    "CacheWriteInputTokenCount": "cache_write_tokens",
    "CacheWrite1hInputTokenCount": "cache_write_1h_tokens",
}
_SNAKE = re.compile(
    r"^(?P<kind>input_tokens|output_tokens|cache_read_tokens|cache_write_tokens_1h|"
    r"cache_write_tokens)(?P<global>_global)?_standard$"
)
_SNAKE_KINDS = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cache_read_tokens": "cache_read_tokens",
    "cache_write_tokens": "cache_write_tokens",
    "cache_write_tokens_1h": "cache_write_1h_tokens",
}
_MILLION_BATCH = {
    "MillionBatchInputTokens": "input_tokens",
    "MillionBatchOutputTokens": "output_tokens",
}


@dataclass(frozen=True)
class BedrockUsage:
    """A usagetype's place in costline's tables: ``bedrock.<mode>.<model_id>.<dimension>``."""

    model_id: str
    provider: str
    model_name: str
    kind: str
    mode: str
    """``on_demand`` (regional), ``batch`` or ``global`` (the global cross-Region profile)."""
    dimension: str

    @property
    def price_id(self) -> str:
        return f"bedrock.{self.mode}.{self.model_id}.{self.dimension}"


def parse_bedrock_usagetype(
    offer: str, usagetype: str, servicename: str | None
) -> BedrockUsage | None:
    """The costline price a Bedrock usagetype (without its region prefix) is, or None."""
    if offer == "AmazonBedrockFoundationModels":
        return _marketplace(usagetype, servicename)
    match = _HYPHEN.match(usagetype)
    if match is None or match["model"] not in BEDROCK_MODELS:
        return None
    words = match["modifiers"].lstrip("-")
    modifiers = words.replace("cross-region-global", "global").replace("long-context", "long")
    known = {"batch", "global", "long", "standard"}
    parts = [part for part in modifiers.split("-") if part]
    if any(part not in known for part in parts):
        return None  # latency-optimized, priority, flex, custom-model: not costline prices
    return _usage(
        BEDROCK_MODELS[match["model"]],
        _HYPHEN_KINDS[match["kind"]],
        batch="batch" in parts,
        global_="global" in parts,
        long_context="long" in parts,
    )


def _marketplace(usagetype: str, servicename: str | None) -> BedrockUsage | None:
    if not servicename:
        return None
    name = servicename.removesuffix(EDITION_SUFFIX).strip()
    model = FOUNDATION_MODELS.get(name)
    outer = _MARKETPLACE.match(usagetype)
    if model is None or outer is None:
        return None
    rest = outer["rest"]
    if rest in _MILLION_BATCH:
        return _usage(model, _MILLION_BATCH[rest], batch=True, global_=False, long_context=False)
    camel = _CAMEL.match(rest)
    if camel is not None:
        parts = [part.lower() for part in camel["modifiers"].split("_") if part]
        if any(part not in ("global", "batch") for part in parts):
            return None  # e.g. _LatencyOptimized, _Geo reserved throughput
        return _usage(
            model,
            _CAMEL_KINDS[camel["kind"]],
            batch="batch" in parts,
            global_="global" in parts,
            long_context=False,
        )
    snake = _SNAKE.match(rest)
    if snake is not None:
        return _usage(
            model,
            _SNAKE_KINDS[snake["kind"]],
            batch=False,
            global_=bool(snake["global"]),
            long_context=False,
        )
    return None


def _usage(
    model: Model, dimension: str, *, batch: bool, global_: bool, long_context: bool
) -> BedrockUsage | None:
    if batch and global_:
        return None  # costline has no global-batch price family
    if long_context:
        if dimension in (
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
        ):
            dimension = f"{dimension}_above_200k"
        else:
            return None
    mode = "batch" if batch else "global" if global_ else "on_demand"
    if batch and dimension not in ("input_tokens", "output_tokens"):
        return None
    model_id, provider, name, kind = model
    return BedrockUsage(model_id, provider, name, kind, mode, dimension)
