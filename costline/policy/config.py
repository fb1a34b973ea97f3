"""The policy pack's configuration: one JSON schema per policy, parsed into typed settings.

Users pass config with ``pulumi preview --policy-pack-config cfg.json``; the engine validates it
against these schemas (as the harness does) before the pack sees it, so parsing here only
applies defaults and converts numbers to ``Decimal``. Example::

    {"stack-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 50, "warnAtPercent": 80},
     "usage-tags": {"failClosed": true},
     "cost-estimate": {"reportPath": "costline-report.md"}}
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, overload

from costline.readers.region import REGION_CODE_PATTERN
from costline.usage.bounds import DEFAULT_WORST_CASE
from costline.usage.tags import USAGE_TAGS as USAGE_TAG_CONTRACT

if TYPE_CHECKING:
    from costline.estimator.pipeline import EstimateOptions

COST_ESTIMATE = "cost-estimate"
STACK_BUDGET = "stack-budget"
RESOURCE_BUDGET = "resource-budget"
USAGE_TAGS = "usage-tags"
LAMBDA_WORST_CASE = "lambda-worst-case"

REPORT_PATH_ENV = "COSTLINE_REPORT_PATH"

_USD = {"type": "number", "minimum": 0}
_USD_MAP = {"type": "object", "additionalProperties": _USD}

SCHEMAS: Mapping[str, dict[str, dict[str, Any]]] = {
    COST_ESTIMATE: {
        "freeTier": {
            "type": "boolean",
            "default": True,
            "description": "Apply the always-free allowances (Lambda 1M requests + 400,000 GB-s) "
            "once per account.",
        },
        "region": {
            "type": "string",
            "pattern": REGION_CODE_PATTERN,
            "description": "Price tables' AWS region (default: the stack's AWS provider region, "
            "else us-east-1).",
        },
        "priceOverrides": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "description": "Price override files (paths relative to the policy pack folder or "
            "absolute).",
        },
        "maxPriceAgeDays": {
            "type": "integer",
            "minimum": 1,
            "default": 90,
            "description": "Warn when the price tables are older than this many days.",
        },
        "reportPath": {
            "type": "string",
            "minLength": 1,
            "description": f"Write the markdown cost report here (or set ${REPORT_PATH_ENV}).",
        },
        "resourceLinesAboveUsd": {
            **_USD,
            "description": "Also report a cost line for each resource whose monthly cost is at "
            "least this many USD (0: every priced resource). Default: only the stack's line.",
        },
    },
    STACK_BUDGET: {
        "monthlyBudgetUsd": {**_USD, "description": "Monthly budget for the whole stack, USD."},
        "warnAtPercent": {
            "type": "number",
            "minimum": 0,
            "maximum": 100,
            "default": 80,
            "description": "Advisory warning once the total reaches this share of the budget.",
        },
    },
    RESOURCE_BUDGET: {
        "maxMonthlyUsd": {**_USD, "description": "Budget for any single resource, USD/month."},
        "maxMonthlyUsdByType": {
            **_USD_MAP,
            "description": 'Budget per resource type token, e.g. {"aws:lambda/function:Function": '
            "20}.",
        },
        "maxMonthlyUsdByName": {
            **_USD_MAP,
            "description": "Budget per resource name (wins over type and default).",
        },
    },
    USAGE_TAGS: {
        "failClosed": {
            "type": "boolean",
            "default": False,
            "description": "Price resources with missing or invalid usage tags at the worst case "
            "below, so a budget cannot be dodged by deleting tags.",
        },
        "worstCase": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                tag.key: {"type": "number", "minimum": 0, "maximum": float(tag.maximum)}
                for tag in USAGE_TAG_CONTRACT
                if tag.numeric
            },
            "description": "Worst-case figures by tag key (numeric cost:* tags, each at most the "
            "tag's "
            'plausible maximum), e.g. {"cost:monthly-requests": 10000000}.',
        },
    },
    LAMBDA_WORST_CASE: {
        "maxMultipleOfExpected": {
            "type": "number",
            "exclusiveMinimum": 0,
            "default": 10,
            "description": "Flag a function whose cost at duration = timeout exceeds this multiple "
            "of its expected cost.",
        },
        "maxPercentOfBudget": {
            "type": "number",
            "minimum": 0,
            "description": "Flag a function whose worst case exceeds this share of the stack "
            "budget.",
        },
    },
}


ENFORCEMENT_LEVEL_KEY = "enforcementLevel"


def config_problems(policy: str, properties: Mapping[str, Any] | None) -> list[str]:
    """What is wrong with one policy's config: each key the policy does not know (with the
    closest valid key) and each value of the wrong type or range. The engine validates types
    against :data:`SCHEMAS` but ignores unknown keys, so a typo such as ``monthlyBudgetUSD`` would
    silently run with no budget: the pack reports it as a violation of that policy."""
    schema = SCHEMAS.get(policy)
    if schema is None or not isinstance(properties, Mapping):
        return []
    problems = []
    by_lower = {key.lower(): key for key in schema}
    for raw_key, value in properties.items():
        key = str(raw_key)
        if key == ENFORCEMENT_LEVEL_KEY:
            continue
        if key not in schema:
            close = by_lower.get(key.lower()) or next(
                iter(difflib.get_close_matches(key, list(schema), n=1, cutoff=0.6)), None
            )
            hint = f"did you mean {close}?" if close else "it is ignored"
            problems.append(
                f"{policy}: unknown config key {key!r}; {hint} "
                f"(valid keys: {', '.join(sorted(schema))})"
            )
            continue
        import jsonschema  # on the first AnalyzeStack only: the pack's start-up stays fast

        error = jsonschema.exceptions.best_match(
            jsonschema.Draft7Validator(schema[key]).iter_errors(value)
        )
        if error is not None:
            where = ".".join([key, *(str(p) for p in error.absolute_path)])
            problems.append(f"{policy}: config {where}: {error.message}")
    return problems


@overload
def _decimal(value: Any, default: Decimal) -> Decimal: ...
@overload
def _decimal(value: Any, default: None = None) -> Decimal | None: ...
def _decimal(value: Any, default: Decimal | None = None) -> Decimal | None:
    """A config number as Decimal (``default`` when absent or not a number)."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


@dataclass(frozen=True)
class PackSettings:
    """Everything the pack's policies need, from the merged config of all of them."""

    free_tier: bool = True
    region: str | None = None
    price_overrides: tuple[str, ...] = ()
    report_path: str | None = None
    resource_lines_above_usd: Decimal | None = None  # None: the stack's line only
    max_price_age_days: int = 90
    monthly_budget_usd: Decimal | None = None
    budget_secret: bool = False
    """The budget came from a secret ``costline:budget``: messages show ``[secret]`` for it and
    nothing computed from it (headroom, over-by, share used); verdicts still say over or within."""
    warn_at_percent: Decimal = Decimal(80)
    max_monthly_usd: Decimal | None = None
    max_by_type: Mapping[str, Decimal] = field(default_factory=dict)
    max_by_name: Mapping[str, Decimal] = field(default_factory=dict)
    fail_closed: bool = False
    worst_case: Mapping[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_WORST_CASE))
    max_multiple_of_expected: Decimal = Decimal(10)
    max_percent_of_budget: Decimal | None = None

    def estimate_options(self) -> EstimateOptions:
        from costline.estimator.pipeline import (
            EstimateOptions,  # the estimator loads on first use: a fast pack start-up
        )

        return EstimateOptions(
            free_tier=self.free_tier,
            fail_closed=self.fail_closed,
            worst_case=self.worst_case,
            max_price_age_days=self.max_price_age_days,
        )

    def resource_budget(self, name: str, type_token: str) -> Decimal | None:
        """The budget that applies to one resource: by name, else by type, else the default."""
        if name in self.max_by_name:
            return self.max_by_name[name]
        if type_token in self.max_by_type:
            return self.max_by_type[type_token]
        return self.max_monthly_usd


def parse_settings(
    config: Mapping[str, Mapping[str, Any]], environ: Mapping[str, str] | None = None
) -> PackSettings:
    """Typed settings from the engine's merged config (unknown keys are ignored)."""
    environ = os.environ if environ is None else environ
    estimate_cfg = config.get(COST_ESTIMATE, {})
    budget_cfg = config.get(STACK_BUDGET, {})
    resource_cfg = config.get(RESOURCE_BUDGET, {})
    tags_cfg = config.get(USAGE_TAGS, {})
    worst_cfg = config.get(LAMBDA_WORST_CASE, {})
    worst_case = dict(DEFAULT_WORST_CASE)
    for key, value in (tags_cfg.get("worstCase") or {}).items():
        parsed = _decimal(value)
        if parsed is not None:
            worst_case[str(key)] = parsed
    return PackSettings(
        free_tier=bool(estimate_cfg.get("freeTier", True)),
        region=estimate_cfg.get("region") or None,
        price_overrides=tuple(str(p) for p in estimate_cfg.get("priceOverrides") or ()),
        report_path=estimate_cfg.get("reportPath") or environ.get(REPORT_PATH_ENV) or None,
        resource_lines_above_usd=_decimal(estimate_cfg.get("resourceLinesAboveUsd")),
        max_price_age_days=int(_decimal(estimate_cfg.get("maxPriceAgeDays"), Decimal(90))),
        monthly_budget_usd=_decimal(budget_cfg.get("monthlyBudgetUsd")),
        warn_at_percent=_decimal(budget_cfg.get("warnAtPercent"), Decimal(80)),
        max_monthly_usd=_decimal(resource_cfg.get("maxMonthlyUsd")),
        max_by_type={
            str(k): d
            for k, v in (resource_cfg.get("maxMonthlyUsdByType") or {}).items()
            if (d := _decimal(v)) is not None
        },
        max_by_name={
            str(k): d
            for k, v in (resource_cfg.get("maxMonthlyUsdByName") or {}).items()
            if (d := _decimal(v)) is not None
        },
        fail_closed=bool(tags_cfg.get("failClosed", False)),
        worst_case=worst_case,
        max_multiple_of_expected=_decimal(worst_cfg.get("maxMultipleOfExpected"), Decimal(10)),
        max_percent_of_budget=_decimal(worst_cfg.get("maxPercentOfBudget")),
    )
