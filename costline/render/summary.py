"""One-line, plain-text summaries of an estimate, shared by the policy pack and ``costline
preview``.

Plain text only (no markdown): these lines land in ``pulumi preview`` output, which the
Pulumi CLI prints to a terminal as they are. So every line is made one safe line here
(:func:`costline.core.text.one_line`): a name or value from the stack holding an ANSI escape
or a line break can neither recolour the terminal nor forge a line.
"""

from __future__ import annotations

from decimal import Decimal

from costline.core.model import Estimate, ResourceEstimate, ResourceStatus, Severity, UsageSource
from costline.core.money import format_quantity, format_usd
from costline.core.text import one_line
from costline.core.type_names import short_type
from costline.review.budget import budget_text, over_by, shown_delta
from costline.usage.tags import USAGE_FINDING_CODES


def resource_line(r: ResourceEstimate) -> str:
    """``api-handler (aws:lambda:Function): ~$0.00/month — 30,000 req × 1,000 ms × 512 MB, inside
    free tier``, then where the usage came from when it is not the resource's own tags (``· usage
    from stack config: costline:usage.api-handler``, ``· cost:monthly-requests at its fail-closed
    bound``).

    Followed, one per line, by findings about properties and prices (usage-tag findings are
    the usage-tags policy's to report)."""
    return "\n".join(
        [
            one_line(_headline(r)),
            *(
                f"  - {one_line(_without_name(f.message, r.name))}"
                for f in r.findings
                if f.severity is not Severity.INFO and f.code not in USAGE_FINDING_CODES
            ),
        ]
    )


def _without_name(message: str, name: str) -> str:
    prefix = f"{name}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def _headline(r: ResourceEstimate) -> str:
    head = f"{r.name} ({short_type(r.type)}): ~{format_usd(r.monthly_usd)}/month"
    if r.status is ResourceStatus.USAGE_MISSING:
        return f"{head} is not a price — usage not declared, unknown or invalid"
    if r.status is ResourceStatus.NOT_PRICED:
        return f"{r.name} ({short_type(r.type)}): not priced by costline"
    details: list[str] = []
    for item in sorted(r.line_items, key=lambda i: -i.monthly_usd):
        text = item.note or (
            "[secret]" if item.secret else f"{format_quantity(item.quantity)} {item.unit}"
        )
        for part in text.split("; "):
            if part not in details:
                details.append(part)
    suffix = " (partly priced: see findings)" if r.status is ResourceStatus.PARTIAL else ""
    return f"{head}{suffix}" + (f" — {', '.join(details)}" if details else "") + _sources(r)


_DECLARED_ELSEWHERE = (UsageSource.STACK_CONFIG, UsageSource.USAGE_FILE)


def _sources(r: ResourceEstimate) -> str:
    """`` · usage from stack config: costline:usage.handler`` (and `` · cost:x at its fail-closed
    bound``): where the figures came from when not from the resource's own tags or properties,
    which is what a reader of the line otherwise takes them for."""
    parts: list[str] = []
    for a in r.assumptions:
        if a.source in _DECLARED_ELSEWHERE and a.origin:
            text = f"usage from {a.origin}"
        elif a.source is UsageSource.BOUND:
            text = f"{a.key} at its fail-closed bound"
        else:
            continue
        if text not in parts:
            parts.append(text)
    return "".join(f" · {part}" for part in parts)


def top_drivers(estimate: Estimate, count: int = 3) -> list[ResourceEstimate]:
    """The ``count`` most expensive resources, largest first (ties by name)."""
    priced = [r for r in estimate.resources if r.monthly_usd > 0]
    return sorted(priced, key=lambda r: (-r.monthly_usd, r.name))[:count]


def drivers_text(estimate: Estimate, count: int = 3) -> str:
    drivers = top_drivers(estimate, count)
    if not drivers:
        return "no resource costs anything"
    return one_line(", ".join(f"{r.name} {format_usd(r.monthly_usd)}" for r in drivers))


def status_counts(estimate: Estimate) -> dict[ResourceStatus, int]:
    counts = dict.fromkeys(ResourceStatus, 0)
    for r in estimate.resources:
        counts[r.status] += 1
    return counts


def known_text(missing: str, bounded: str) -> str:
    """What follows a total: `` + <what is missing>`` and ``, including <what is a bound>``
    (the summaries of :class:`~costline.core.completeness.Completeness`); empty when the total
    is all known costs."""
    return (f" + {missing}" if missing else "") + (f", including {bounded}" if bounded else "")


def stack_line(
    estimate: Estimate, budget_usd: Decimal | None = None, *, budget_secret: bool = False
) -> str:
    """``Stack total ~$38.61/month (budget $50.00, headroom $11.39) · 9 resources: ...``, with
    what is missing after the total when the estimate is incomplete
    (``~$12.07/month + 1 resource not fully priced: model (no price for … in eu-west-1)``) and
    what is a fail-closed bound when any figure is (``~$9.92/month, including 1 resource priced
    at worst-case bounds: data (cost:monthly-get-requests at its bound 10000000)``).
    A secret budget shows as ``(budget [secret]: within)`` or ``: over``, without the headroom
    that would tell it."""
    counts = status_counts(estimate)
    total = estimate.total_monthly_usd
    budget = ""
    if budget_usd is not None and budget_secret:
        over = over_by(total, budget_usd) is not None
        budget = f" (budget {budget_text(budget_usd, True)}: {'over' if over else 'within'})"
    elif budget_usd is not None:
        headroom = shown_delta(total, budget_usd)
        budget = (
            f" (budget {format_usd(budget_usd)}, headroom {format_usd(headroom)})"
            if headroom >= 0
            else f" (budget {format_usd(budget_usd)}, over by {format_usd(-headroom)})"
        )
    incomplete = known_text(
        estimate.completeness.summary(), estimate.completeness.bounded_summary()
    )
    return (
        f"Stack total ~{format_usd(total)}/month{incomplete}{budget} · "
        f"{len(estimate.resources)} resources: "
        f"{counts[ResourceStatus.PRICED] + counts[ResourceStatus.PARTIAL]} priced, "
        f"{counts[ResourceStatus.FREE]} free, {counts[ResourceStatus.USAGE_MISSING]} missing "
        "usage, "
        f"{counts[ResourceStatus.NOT_PRICED]} not priced · prices {estimate.pricing.version} "
        f"({estimate.pricing.region}, as of {estimate.pricing.as_of})"
    )
