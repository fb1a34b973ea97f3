"""The usage-tag contract: expected traffic declared as ``cost:*`` tags on resources.

Each tag is declared once here (key, unit, meaning, example, plausible maximum); pricers ask
:class:`UsageReader` for values and get a ``Decimal`` or ``None`` plus findings, never an
exception. Values are plain decimal numbers (ASCII digits with an optional fraction: ``1000``,
``0.5``); signs, exponents, thousands separators, whitespace and non-ASCII digits are rejected
with a finding that names the resource and the tag.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from costline.core.model import (
    Assumption,
    Finding,
    Resource,
    Severity,
    UsageOrigin,
    UsageSource,
    slot_init,
)
from costline.core.money import VALUE_CACHE_ENTRIES, format_quantity
from costline.core.money import plain_number as _plain
from costline.core.values import (
    PREVIEW_SECRET_PLACEHOLDER,
    SECRET_DISPLAY,
    is_secret_path,
    is_unknown,
    touches_secret,
)

USAGE_FINDING_CODES = frozenset(
    {
        "usage-tag-missing",
        "usage-tag-malformed",
        "usage-tag-unknown",
        "usage-tag-out-of-range",
        "usage-tags-inconsistent",
        "usage-tag-unrecognized",
        "usage-priced-worst-case",
        "priced-at-bound",
        "bedrock-model-unknown",
    }
)
"""Finding codes about declared usage: what the usage-tags policy reports."""
DEFAULT_DAYS_PER_MONTH = Decimal(30)
_PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)
_MAX_SHOWN_VALUE_CHARS = 40


@dataclass(frozen=True)
class UsageTag:
    """One ``cost:*`` tag: what it means, its unit, an example and the largest plausible value."""

    key: str
    unit: str
    meaning: str
    example: str
    maximum: Decimal
    numeric: bool = True
    zero_when: str | None = None
    """When the figure is truly none (``nothing reads the bucket``): the fix for a missing tag
    then says to declare 0, since an undeclared figure is unknown, never taken as 0."""
    none_declared: str | None = None
    """For an optional figure (read with :meth:`UsageReader.optional_number`), what taking it as
    0 when it is not declared leaves out (``no transfer out to the internet``): the report's
    assumption row for it says so."""

    def or_zero(self) -> str:
        """``, or k=0 if ...`` for a tag with :attr:`zero_when`, else empty."""
        return f", or {self.key}=0 if {self.zero_when}" if self.zero_when else ""

    def fix(self) -> str:
        """How to declare the tag: ``add the tag k=example`` (and :meth:`or_zero`)."""
        return f"add the tag {self.key}={self.example}{self.or_zero()}"


def _tag(
    key: str,
    unit: str,
    meaning: str,
    example: str,
    maximum: str,
    numeric: bool = True,
    zero_when: str | None = None,
    none_declared: str | None = None,
) -> UsageTag:
    return UsageTag(
        key, unit, meaning, example, Decimal(maximum), numeric, zero_when, none_declared
    )


MONTHLY_REQUESTS = _tag(
    "cost:monthly-requests",
    "requests/month",
    "Requests (invocations, API calls) per month.",
    "30000",
    "1e13",
)
DAILY_REQUESTS = _tag(
    "cost:daily-requests",
    "requests/day",
    "Requests per day; multiplied by cost:days-per-month.",
    "1000",
    "1e12",
)
DAYS_PER_MONTH = _tag(
    "cost:days-per-month",
    "days",
    "Days per month that cost:daily-requests applies to (default 30, as the seed template does).",
    "30",
    "31",
)
AVG_DURATION_MS = _tag(
    "cost:avg-duration-ms",
    "ms",
    "Average Lambda run time per invocation, billed in 1 ms steps.",
    "1000",
    "900000",
)
INPUT_TOKENS = _tag(
    "cost:input-tokens",
    "tokens/request",
    "Bedrock input (prompt) tokens per request.",
    "500",
    "10000000",
)
OUTPUT_TOKENS = _tag(
    "cost:output-tokens",
    "tokens/request",
    "Bedrock output (generated) tokens per request.",
    "500",
    "10000000",
)
BEDROCK_MODEL = _tag(
    "cost:bedrock-model",
    "model id",
    "Bedrock model id the requests go to.",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "0",
    numeric=False,
)
STORAGE_GB = _tag("cost:storage-gb", "GB", "Average data stored over the month.", "40", "1e9")
MONTHLY_GET_REQUESTS = _tag(
    "cost:monthly-get-requests",
    "requests/month",
    "S3 GET/SELECT (and other read) requests per month.",
    "30000",
    "1e15",
    zero_when="nothing reads the bucket",
)
MONTHLY_PUT_REQUESTS = _tag(
    "cost:monthly-put-requests",
    "requests/month",
    "S3 PUT/COPY/POST/LIST requests per month.",
    "100",
    "1e15",
    zero_when="nothing writes to or lists the bucket",
)
INIT_DURATION_MS = _tag(
    "cost:init-duration-ms",
    "ms",
    "Lambda INIT (cold start) duration, billed for each cold start since 2025-08-01.",
    "800",
    "10000",
    none_declared="no INIT time for cold starts",
)
COLD_START_PERCENT = _tag(
    "cost:cold-start-percent",
    "% of invocations",
    "Share of Lambda invocations that start a new execution environment (default 1).",
    "1",
    "100",
)
CACHE_READ_TOKENS = _tag(
    "cost:cache-read-tokens",
    "tokens/request",
    "Bedrock prompt-cache read input tokens per request (at the cache-read price).",
    "2000",
    "10000000",
)
CACHE_WRITE_TOKENS = _tag(
    "cost:cache-write-tokens",
    "tokens/request",
    "Bedrock prompt-cache write input tokens per request, 5-minute cache.",
    "500",
    "10000000",
)
CACHE_WRITE_1H_TOKENS = _tag(
    "cost:cache-write-1h-tokens",
    "tokens/request",
    "Bedrock prompt-cache write input tokens per request, 1-hour cache.",
    "500",
    "10000000",
)
CACHE_TOKEN_TAGS: tuple[UsageTag, ...] = (
    CACHE_READ_TOKENS,
    CACHE_WRITE_TOKENS,
    CACHE_WRITE_1H_TOKENS,
)
"""The per-request prompt-cache token figures."""
TOKEN_TAGS: tuple[UsageTag, ...] = (INPUT_TOKENS, OUTPUT_TOKENS, *CACHE_TOKEN_TAGS)
"""Every per-request token figure."""
# --- Bedrock billing modes (see costline.pricers.bedrock and bedrock_imported) -------------
BEDROCK_MODE = _tag(
    "cost:bedrock-mode",
    "mode",
    "How Bedrock bills the tokens: on-demand (default) or batch (batch inference, 50% where AWS "
    "offers it).",
    "batch",
    "0",
    numeric=False,
)
IMPORTED_MODEL = _tag(
    "cost:imported-model",
    "model name",
    "A Custom Model Import model the requests go to (billed per CMU-minute, not per token); "
    "architecture and size are read from the name.",
    "deepseek-r1-distill-llama-70b",
    "0",
    numeric=False,
)
CMU = _tag(
    "cost:cmu",
    "CMUs/copy",
    "Custom Model Units per copy of an imported model (overrides the estimate from architecture "
    "and size).",
    "8",
    "1000",
)
MODEL_COPIES = _tag(
    "cost:model-copies", "copies", "Imported-model copies active at once (default 1).", "1", "1000"
)
ACTIVE_HOURS_PER_DAY = _tag(
    "cost:active-hours-per-day",
    "hours/day",
    "Hours per day an imported model copy is active (default: requests spread over 8 working "
    "hours).",
    "8",
    "24",
)
IMAGES_PER_REQUEST = _tag(
    "cost:images-per-request",
    "images/request",
    "Images generated per request by a Bedrock image model.",
    "1",
    "1000",
)
IMAGE_VARIANT = _tag(
    "cost:image-variant",
    "variant",
    "Image size/quality priced: standard (default), premium, small, small_premium, large or "
    "large_premium.",
    "premium",
    "0",
    numeric=False,
)
TRAINING_TOKENS = _tag(
    "cost:training-tokens",
    "tokens/epoch",
    "Tokens in a Bedrock customization job's training data (one epoch).",
    "10000000",
    "1e13",
)
# --- traffic through the graph and the rest of the stack ----------------------------------
GETS_PER_REQUEST = _tag(
    "cost:get-requests-per-request",
    "GETs/request",
    "S3 GET requests per request of the Lambda that reads the bucket (default 1).",
    "1",
    "1000",
)
AVG_REQUEST_KB = _tag(
    "cost:avg-request-kb",
    "KB",
    "Average request (HTTP API) or message (WebSocket) size; metered in 512 KB / 32 KB increments.",
    "600",
    "10485760",
)
MONTHLY_MESSAGES = _tag(
    "cost:monthly-messages",
    "messages/month",
    "WebSocket messages sent and received per month.",
    "1000000",
    "1e15",
)
MONTHLY_CONNECTION_MINUTES = _tag(
    "cost:monthly-connection-minutes",
    "connection-minutes/month",
    "WebSocket connection minutes per month.",
    "100000",
    "1e15",
)
MONTHLY_TRANSFER_OUT_GB = _tag(
    "cost:monthly-transfer-out-gb",
    "GB/month",
    "S3 data transferred out to the internet per month (first 100 GB free, account-wide).",
    "500",
    "1e9",
    none_declared="no transfer out to the internet",
)
RETENTION_DAYS = _tag(
    "cost:retention-days",
    "days",
    "How long objects stay in an S3 bucket with lifecycle transitions but no expiration (sets the "
    "class mix).",
    "365",
    "36500",
)
MONTHLY_RETRIEVAL_GB = _tag(
    "cost:monthly-retrieval-gb",
    "GB/month",
    "Data read back per month from a bucket's IA/Glacier storage classes.",
    "10",
    "1e9",
    none_declared="no retrieval from the IA/Glacier classes",
)

USAGE_TAGS: tuple[UsageTag, ...] = (
    MONTHLY_REQUESTS,
    DAILY_REQUESTS,
    DAYS_PER_MONTH,
    AVG_DURATION_MS,
    INIT_DURATION_MS,
    COLD_START_PERCENT,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    CACHE_READ_TOKENS,
    CACHE_WRITE_TOKENS,
    CACHE_WRITE_1H_TOKENS,
    BEDROCK_MODEL,
    STORAGE_GB,
    MONTHLY_GET_REQUESTS,
    MONTHLY_PUT_REQUESTS,
    BEDROCK_MODE,
    IMPORTED_MODEL,
    CMU,
    MODEL_COPIES,
    ACTIVE_HOURS_PER_DAY,
    IMAGES_PER_REQUEST,
    IMAGE_VARIANT,
    TRAINING_TOKENS,
    GETS_PER_REQUEST,
    AVG_REQUEST_KB,
    MONTHLY_MESSAGES,
    MONTHLY_CONNECTION_MINUTES,
    MONTHLY_TRANSFER_OUT_GB,
    RETENTION_DAYS,
    MONTHLY_RETRIEVAL_GB,
)
USAGE_TAGS_BY_KEY: Mapping[str, UsageTag] = {tag.key: tag for tag in USAGE_TAGS}


_GROUPED = re.compile(r"[0-9]{1,3}([,_])[0-9]{3}(?:\1[0-9]{3})*(?:\.[0-9]+)?", re.ASCII)
"""A number with thousands separators used one unambiguous way: ``300,000``, ``1,234,567.5``,
``10_000`` (a comma is never the decimal mark when a point follows or groups are of three)."""


def _without_separators(raw: Any) -> str | None:
    """``raw`` as plain digits when it is a number grouped by :data:`_GROUPED`, else ``None``."""
    if type(raw) is not str or not _GROUPED.fullmatch(raw):
        return None
    return raw.replace(",", "").replace("_", "")


def parse_plain_decimal(raw: Any) -> tuple[Decimal | None, str | None]:
    """Parse a tag value as a plain non-negative decimal number.

    Returns ``(value, None)`` or ``(None, reason)``; ``reason`` describes the problem
    without repeating the value (callers decide whether the value may be shown).
    """
    if type(raw) is str:
        return _parse_plain_decimal_text(raw)
    if isinstance(raw, bool):
        return None, "is a boolean, not a number"
    if isinstance(raw, int):
        return (Decimal(raw), None) if raw >= 0 else (None, "is negative")
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            return None, "is not a finite number"
        if raw < 0:
            return None, "is negative"
        return Decimal(repr(raw)), None
    if not isinstance(raw, str):
        return None, f"is a {type(raw).__name__}, not a plain decimal string"
    return _parse_plain_decimal_text.__wrapped__(raw)


@functools.lru_cache(maxsize=VALUE_CACHE_ENTRIES)
def _parse_plain_decimal_text(raw: str) -> tuple[Decimal | None, str | None]:
    """:func:`parse_plain_decimal` for a string; cached by value, as the same figures ("250",
    "500") recur across a stack (the result is immutable)."""
    if raw == "":
        return None, "is empty"
    if raw != raw.strip():
        return None, "has leading or trailing whitespace"
    if _PLAIN_DECIMAL.fullmatch(raw):
        try:
            return Decimal(raw), None
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
            return None, "is not a plain decimal number"
    if raw.startswith("-") and _PLAIN_DECIMAL.fullmatch(raw[1:]):
        return None, "is negative"
    if "," in raw or "_" in raw:
        return None, "contains a thousands separator"
    if any(ch.isdigit() and not ch.isascii() for ch in raw):
        return None, "contains non-ASCII digits"
    lowered = raw.lower()
    if lowered in ("nan", "inf", "infinity", "+inf", "-inf", "-infinity", "+infinity"):
        return None, "is not a finite number"
    if re.fullmatch(r"[+-]?[0-9.]+e[+-]?[0-9]+", lowered, re.ASCII):
        return None, "uses an exponent"
    return None, "is not a plain decimal number"


@slot_init
@dataclass(frozen=True, slots=True)
class DerivedValue:
    """A usage figure that flowed in from another resource (see :mod:`costline.usage.traffic`).

    ``value`` is a ``Decimal`` for numeric tags, text otherwise; ``detail`` says where it came
    from (``from api (aws:apigateway:RestApi) via integration``); ``secret`` marks figures
    computed from a secret tag. A resource's own tag always wins over a derived value.
    ``unreadable``: the figure could not be worked out, as a resource it flows from declares it
    (or a figure it depends on) with a value that is unknown or invalid; ``value`` is then a
    placeholder and ``detail`` says whose, and the reader reports the figure as unknown.
    """

    value: Decimal | str
    detail: str
    secret: bool = False
    unreadable: bool = False


class UsageReader:
    """Reads the usage tags (and nothing else) of one resource, collecting findings.

    Tags come from ``tags`` (declared inputs) layered over ``tagsAll`` (outputs that include
    provider default tags). A secret tag's value is used but shown as ``[secret]``.
    """

    __slots__ = (
        "_tag_paths",
        "_tags",
        "_tags_unknown",
        "assumptions",
        "derived",
        "findings",
        "records",
        "resource",
        "secret_text_used",
        "secret_used",
        "worst_case",
    )  # one or more per priced resource and estimate

    def __init__(
        self,
        resource: Resource,
        worst_case: Mapping[str, Decimal] | None = None,
        derived: Mapping[str, DerivedValue] | None = None,
        tags: TagCache | None = None,
        *,
        records: bool = True,
    ) -> None:
        """``worst_case`` (tag key → value) turns on fail-closed pricing: a missing, unknown or
        malformed numeric tag is then priced at that value instead of being left out.
        ``derived`` (tag key → value) holds figures that flowed in from other resources: they
        are used when the resource has no tag of its own (own tag > derived > missing).
        ``tags``: the estimate's :class:`TagCache`, so the tags are collected once per resource.
        ``records=False``: the values are read the same way, but no :attr:`assumptions` are kept
        (for a reader whose figures are never reported, such as the traffic pre-pass's)."""
        self.resource = resource
        self.worst_case = worst_case
        self.derived: Mapping[str, DerivedValue] = derived or {}
        self.secret_used = False
        """True once a secret value was used: figures derived from it must not be shown."""
        self.secret_text_used = False
        """True once a secret *text* was used (a model id, an architecture): the names and price
        ids it chose must not be shown either (see :meth:`masked`)."""
        self.findings: list[Finding] = []
        self.assumptions: list[Assumption] = []
        self.records = records
        self._tags, self._tag_paths, self._tags_unknown = (
            tags.collected(resource) if tags is not None else _collect_tags(resource)
        )

    # --- low level -------------------------------------------------------------------------
    def has(self, tag: UsageTag) -> bool:
        return tag.key in self._tags

    def has_or_derived(self, tag: UsageTag) -> bool:
        """Declared here, or flowed in from another resource."""
        return tag.key in self._tags or tag.key in self.derived

    def origin(self, tag: UsageTag) -> UsageOrigin | None:
        """Where the resource's value of ``tag`` came from when it is not the resource's own tag
        (stack config, a usage file); ``None`` for its own tag, or no value."""
        origins = self.resource.usage_origins
        if not origins or self._tag_paths.get(tag.key) != f"tags.{tag.key}":
            return None
        return origins.get(tag.key)

    def _assume_declared(self, tag: UsageTag, shown: str, detail: str | None = None) -> None:
        """Record ``tag``'s declared value as an input, with where it was declared."""
        origin = self.origin(tag)
        if origin is None:
            self.assume(tag.key, shown, UsageSource.TAG, detail)
        else:
            self.assume(tag.key, shown, origin.source, detail, origin.where)

    def _derived(self, tag: UsageTag, kind: type) -> DerivedValue | None:
        """The value of ``tag`` that flowed in, if it is of ``kind`` (``Decimal`` or ``str``)."""
        derived = self.derived.get(tag.key)
        return derived if derived is not None and type(derived.value) is kind else None

    def _unreadable_derived(self, tag: UsageTag) -> bool:
        """Whether ``tag`` flows in but could not be worked out; if so, a finding says whose
        figure was unknown or invalid (a gap, as for the resource's own unreadable tag)."""
        derived = self.derived.get(tag.key)
        if derived is None or not derived.unreadable:
            return False
        self.finding(
            "usage-tag-unknown",
            Severity.WARNING,
            f"{tag.key} could not be worked out: {derived.detail}",
            tag,
            f"declare {tag.key} with a plain value where it is declared, or here",
        )
        return True

    def _use_derived(self, tag: UsageTag, derived: DerivedValue) -> Decimal | str:
        """``derived``, the value of ``tag``, recorded as a DERIVED assumption."""
        self.secret_used = self.secret_used or derived.secret
        if derived.secret and type(derived.value) is str:
            self.secret_text_used = True
        shown = (
            SECRET_DISPLAY
            if derived.secret
            else (_plain(derived.value) if isinstance(derived.value, Decimal) else derived.value)
        )
        self.assume(tag.key, shown, UsageSource.DERIVED, derived.detail)
        return derived.value

    def _shown(self, tag: UsageTag, raw: Any) -> str:
        if self.is_secret(tag) or raw == PREVIEW_SECRET_PLACEHOLDER:
            return SECRET_DISPLAY
        text = str(raw)
        if len(text) > _MAX_SHOWN_VALUE_CHARS:
            text = text[:_MAX_SHOWN_VALUE_CHARS] + "…"
        return repr(text) if isinstance(raw, str) else text

    def finding(
        self,
        code: str,
        severity: Severity,
        message: str,
        tag: UsageTag | str | None = None,
        suggestion: str | None = None,
        gap: str | None = None,
    ) -> Finding:
        """A finding on this resource; one about a figure declared in stack config or a usage
        file says so (that is where to fix it)."""
        field = None
        if isinstance(tag, UsageTag):
            field = f"tags.{tag.key}"
            origin = self.origin(tag)
            if origin is not None:
                message = f"{message} (from {origin.where})"
        elif isinstance(tag, str):
            field = tag
        finding = Finding(
            code=code,
            severity=severity,
            message=f"{self.resource.name}: {message}",
            resource_urn=self.resource.urn,
            resource_name=self.resource.name,
            field=field,
            suggestion=suggestion,
            gap=gap,
        )
        self.findings.append(finding)
        return finding

    def assume(
        self,
        key: str,
        value: str,
        source: UsageSource,
        detail: str | None = None,
        origin: str | None = None,
    ) -> None:
        """Record an input (``origin``: the file or config entry it was declared in). A figure
        DERIVED once a secret was used may have been computed from it, so its value and detail
        are shown as ``[secret]`` (callers mask their own TAG and PROPERTY values, which they
        know the provenance of)."""
        if self.records:
            if source is UsageSource.DERIVED and self.secret_used:
                value, detail = SECRET_DISPLAY, None
            self.assumptions.append(Assumption(key, value, source, detail, origin))

    def assume_instead(
        self, tag: UsageTag, value: str, detail: str, *, key: str | None = None
    ) -> None:
        """Record ``value``, taken instead of ``tag``'s declared figure, which could not be used
        (unreadable or out of range: a finding says why and makes the estimate incomplete): an
        ``assumed`` row (under ``key``, default the tag's) whose ``detail`` says so, in the same
        words wherever a stand-in is taken."""
        self.assume(
            key or tag.key,
            value,
            UsageSource.ASSUMED,
            f"{detail}; the declared {tag.key} could not be used",
        )

    @property
    def fail_closed(self) -> bool:
        """Fail-closed pricing is on: undeterminable figures take their worst-case bound."""
        return self.worst_case is not None

    def priced_at_bound(self, field: str, shown: str, why: str, suggestion: str | None) -> None:
        """Record that ``field`` could not be determined (``why``) and was priced at its
        fail-closed bound ``shown`` (a ``priced-at-bound`` finding, on the same field as the gap
        it closes; see :mod:`costline.core.completeness`)."""
        self.assume(field, shown, UsageSource.BOUND, "fail-closed bound")
        self.finding(
            "priced-at-bound",
            Severity.WARNING,
            f"{why}; priced at the fail-closed bound {shown}",
            field,
            suggestion,
            gap=f"{field.removeprefix('tags.')} at its bound {shown}",
        )

    def tag_at_bound(self, tag: UsageTag, shown: str, why: str = "") -> None:
        """:meth:`priced_at_bound` for a text or schedule tag that could not be read: ``why``
        says what makes ``shown`` the bound."""
        self.priced_at_bound(
            f"tags.{tag.key}",
            shown,
            f"{tag.key} could not be read" + (f"; {why}" if why else ""),
            f"set {tag.key}, e.g. {tag.key}={tag.example}",
        )

    def mark_secret(self, *, text: bool = False) -> None:
        """Note that a secret value was used (``text``: a secret text, such as a model id)."""
        self.secret_used = True
        self.secret_text_used = self.secret_text_used or text

    def property_secret(self, path: str, *, text: bool = False) -> bool:
        """Whether the property at ``path`` holds a secret; if it does, it counts as used."""
        secret = touches_secret(path, self.resource.secret_paths)
        if secret:
            self.mark_secret(text=text)
        return secret

    def masked(self, text: str) -> str:
        """``text`` (a name the resource's inputs chose: a model id, an architecture, a variant)
        for a message, or ``[secret]`` once any secret text was used by this reader."""
        return SECRET_DISPLAY if self.secret_text_used else text

    # --- tag values ----------------------------------------------------------------------
    def number(
        self, tag: UsageTag, *, required: bool = True, worst_case: Decimal | None = None
    ) -> Decimal | None:
        """The tag's value, or ``None`` with a finding (missing, unknown or malformed).

        In fail-closed mode a required tag that cannot be read is priced at its worst case
        (``worst_case`` if given, else the reader's table) and the finding says so.
        """
        value = self._number(tag, required=required)
        if value is not None or not required:
            return value
        return self._worst_case(tag, worst_case)

    def optional_number(
        self, tag: UsageTag, *, worst_case: Decimal | None = None
    ) -> Decimal | None:
        """A figure a resource may leave out (a tag with :attr:`UsageTag.none_declared`): when it
        is not declared, it is taken as 0 and recorded as a ``default`` assumption saying what
        that leaves out, so no report prices it at $0 in silence; returns ``None`` then, as there
        is nothing to price. When it is declared, flowed in, or may be declared (the tag map is
        not known until the update runs), it is read as :meth:`number` reads a required figure:
        unknown, malformed or out of range makes the estimate incomplete (fail-closed: priced at
        ``worst_case`` or the reader's table, if either has a bound)."""
        assert tag.none_declared, f"{tag.key} is not an optional figure"
        if self._tags_unknown or self.has_or_derived(tag):
            return self.number(tag, worst_case=worst_case)
        self.assume(
            tag.key,
            "0",
            UsageSource.DEFAULT,
            f"{tag.unit}: not declared, so {tag.none_declared} is priced",
        )
        return None

    def _worst_case(self, tag: UsageTag, worst_case: Decimal | None = None) -> Decimal | None:
        """The fail-closed stand-in for an unreadable tag, or ``None`` when fail-open."""
        if self.worst_case is None:
            return None
        fallback = worst_case if worst_case is not None else self.worst_case.get(tag.key)
        if fallback is None:
            return None
        # a caller's bound comes from the resource (a Lambda's timeout): masked once a secret
        # was read, as it may be one; the table's stand-ins are documented figures
        shown = SECRET_DISPLAY if worst_case is not None and self.secret_used else _plain(fallback)
        self.assume(tag.key, shown, UsageSource.BOUND, "fail-closed worst case")
        self.finding(
            "usage-priced-worst-case",
            Severity.WARNING,
            f"{tag.key} priced at the fail-closed worst case {shown} {tag.unit}",
            tag,
            f"declare the real figure, e.g. {tag.key}={tag.example}{tag.or_zero()}",
            gap=f"{tag.key} at its bound {shown}",
        )
        return fallback

    def _number(self, tag: UsageTag, *, required: bool) -> Decimal | None:
        if tag.key not in self._tags:
            if self._unreadable_derived(tag):
                return None
            if (derived := self._derived(tag, Decimal)) is not None:
                return self._use_derived(tag, derived)  # type: ignore[return-value]
            if self._tags_unknown or required:
                self.missing(tag)
            return None
        raw = self._tags[tag.key]
        if is_unknown(raw) or raw == PREVIEW_SECRET_PLACEHOLDER:
            why = (
                "is a secret whose value is not in the preview"
                if raw == PREVIEW_SECRET_PLACEHOLDER or self.is_secret(tag)
                else "is not known until the update runs"
            )
            self.finding(
                "usage-tag-unknown",
                Severity.WARNING,
                f"{tag.key} {why}",
                tag,
                f"set {tag.key} from plain stack config, e.g. {tag.key}={tag.example}",
            )
            return None
        value, reason = parse_plain_decimal(raw)
        if value is None:
            self.finding(
                "usage-tag-malformed",
                Severity.ERROR,
                f"{tag.key}={self._shown(tag, raw)} {reason}; expected a plain decimal number in "
                f"{tag.unit}",
                tag,
                self._fix(tag, raw),
            )
            return None
        if value > tag.maximum:
            self.finding(
                "usage-tag-out-of-range",
                Severity.ERROR,
                f"{tag.key}={self._shown(tag, raw)} is larger than the plausible maximum "
                f"{format_quantity(tag.maximum)} {tag.unit}",
                tag,
                f"check the figure: {tag.key} is in {tag.unit}, at most "
                f"{format_quantity(tag.maximum)}",
            )
            return None
        secret = self.is_secret(tag)  # what _shown would mask (a placeholder returned above)
        self.secret_used = self.secret_used or secret
        if self.records:  # (the shown figure is worked out only to be recorded)
            self._assume_declared(tag, SECRET_DISPLAY if secret else _plain(value), tag.unit)
        return value

    def _fix(self, tag: UsageTag, raw: Any) -> str:
        """What to write instead of a malformed figure. Never a figure of another size: the
        value itself without its thousands separators when that is unambiguous (``300,000`` →
        ``300000``, not the contract's example), else how to write it, without any figure."""
        plain = _without_separators(raw)
        if plain is not None:
            if self.is_secret(tag):
                return f"write {tag.key} without thousands separators"
            return f"set {tag.key}={plain}"
        return (
            f"write {tag.key} as a plain decimal number in {tag.unit}: digits and at most one "
            "decimal point, no separators, sign, exponent or spaces"
        )

    def text(self, tag: UsageTag, *, required: bool = True) -> str | None:
        """A non-numeric tag (the Bedrock model id), or ``None`` with a finding."""
        if tag.key not in self._tags:  # as _number: an unreadable flowed-in value, a flowed-in one
            if self._unreadable_derived(tag):
                return None
            if (derived := self._derived(tag, str)) is not None:
                return self._use_derived(tag, derived)  # type: ignore[return-value]
            if self._tags_unknown or required:
                self.missing(tag)
            return None
        raw = self._tags[tag.key]
        if is_unknown(raw) or raw == PREVIEW_SECRET_PLACEHOLDER:
            self.finding(
                "usage-tag-unknown",
                Severity.WARNING,
                f"{tag.key} is not known until the update runs",
                tag,
                f"set {tag.key} from plain stack config, e.g. {tag.key}={tag.example}",
            )
            return None
        if not isinstance(raw, str) or not raw.strip():
            self.finding(
                "usage-tag-malformed",
                Severity.ERROR,
                f"{tag.key} is empty or not text",
                tag,
                f"set {tag.key}={tag.example}",
            )
            return None
        if self.is_secret(tag):
            self.mark_secret(text=True)
        self._assume_declared(tag, self._shown(tag, raw).strip("'"))
        return raw.strip()

    def missing(self, tag: UsageTag, why: str | None = None) -> None:
        """A finding for a tag the resource does not declare, or, when its tag map (``tags`` or
        ``tagsAll``, which holds the provider's default tags) is not known until the update
        runs, one saying so: the tag may well be declared, so it is never "add the tag"."""
        if self._tags_unknown:
            self.finding(
                "usage-tag-unknown",
                Severity.WARNING,
                f"tags are not known until the update runs, so {tag.key} could not be read",
                tag,
                f"compute the tags (and the provider's default tags) from plain stack config, "
                f"not from another resource's output, so that {tag.key} is known at preview",
            )
            return
        self.finding(
            "usage-tag-missing",
            Severity.WARNING,
            f"no {tag.key} tag{', ' + why if why else ''}: {tag.meaning.rstrip('.').lower()} is "
            "unknown, so this cost is not in the total",
            tag,
            tag.fix(),
        )

    def display(self, tag: UsageTag, value: Decimal) -> str:
        """A figure read from ``tag`` for a message: ``[secret]`` if the tag was a secret."""
        return SECRET_DISPLAY if self.is_secret(tag) else _plain(value)

    def is_secret(self, tag: UsageTag) -> bool:
        """Whether the tag's value came from (or holds) a secret."""
        if not self.resource.secret_paths:
            return False  # the common case: no secrets, no path to build
        path = self._tag_paths.get(tag.key, f"tags.{tag.key}")
        return touches_secret(path, self.resource.secret_paths)

    # --- composite figures -------------------------------------------------------------------
    def days_per_month(self, used_for: str) -> Decimal:
        """``cost:days-per-month`` (``used_for``: what for, for the report): declared; else 30,
        a ``default`` row. Declared but unreadable (unknown, malformed, out of range) or 0: a
        finding that makes the estimate incomplete, and 30 taken (an ``assumed`` row);
        fail-closed, an unreadable figure is priced at 31, the most days a month has."""
        if not self.has(DAYS_PER_MONTH):
            self.assume(
                DAYS_PER_MONTH.key, _plain(DEFAULT_DAYS_PER_MONTH), UsageSource.DEFAULT, used_for
            )
            return DEFAULT_DAYS_PER_MONTH
        days = self.number(DAYS_PER_MONTH, worst_case=DAYS_PER_MONTH.maximum)
        if days == 0:
            self.finding(
                "usage-tag-out-of-range",
                Severity.ERROR,
                f"{DAYS_PER_MONTH.key}=0 leaves no days in the month",
                DAYS_PER_MONTH,
                f"set {DAYS_PER_MONTH.key}={DAYS_PER_MONTH.example}",
            )
        if not days:
            self.assume_instead(DAYS_PER_MONTH, _plain(DEFAULT_DAYS_PER_MONTH), used_for)
            return DEFAULT_DAYS_PER_MONTH
        return days

    def monthly_requests(self, *, required: bool = True) -> Decimal | None:
        """Requests per month from ``cost:monthly-requests`` or ``cost:daily-requests`` × days.

        When both are given and disagree, the monthly figure wins and a finding says so.
        """
        has_monthly, has_daily = self.has(MONTHLY_REQUESTS), self.has(DAILY_REQUESTS)
        if (
            not has_monthly
            and not has_daily
            and MONTHLY_REQUESTS.key in self.derived
            and not self._tags_unknown
        ):
            return self._number(MONTHLY_REQUESTS, required=required)
        if not has_monthly and not has_daily:
            if self._tags_unknown or self.worst_case is not None:
                return self.number(MONTHLY_REQUESTS, required=required)
            if required:
                self.finding(
                    "usage-tag-missing",
                    Severity.WARNING,
                    "no cost:monthly-requests or cost:daily-requests tag: traffic is unknown, so "
                    "request-driven cost is not in the total",
                    MONTHLY_REQUESTS,
                    f"add the tag {MONTHLY_REQUESTS.key}={MONTHLY_REQUESTS.example} (or "
                    f"{DAILY_REQUESTS.key}={DAILY_REQUESTS.example})",
                )
            return None
        monthly = self._number(MONTHLY_REQUESTS, required=True) if has_monthly else None
        daily = self._number(DAILY_REQUESTS, required=True) if has_daily else None
        from_daily = None
        if daily is not None:
            from_daily = daily * self.days_per_month("days per month for cost:daily-requests")
        if monthly is not None and from_daily is not None and monthly != from_daily:
            self.finding(
                "usage-tags-inconsistent",
                Severity.WARNING,
                f"cost:monthly-requests ({self.display(MONTHLY_REQUESTS, monthly)}) disagrees with "
                f"cost:daily-requests × days ({self.display(DAILY_REQUESTS, from_daily)}); using "
                "cost:monthly-requests",
                MONTHLY_REQUESTS,
                "keep one of the two tags, or make them agree",
            )
        result = monthly if monthly is not None else from_daily
        if result is None and required:
            return self._worst_case(MONTHLY_REQUESTS)
        if result is not None and self.records:
            shown = SECRET_DISPLAY if self.secret_used else _plain(result)
            origin = self.origin(MONTHLY_REQUESTS) if monthly is not None else None
            self.assume(
                "monthly requests",
                shown,
                UsageSource.DERIVED
                if monthly is None
                else (origin.source if origin else UsageSource.TAG),
                "cost:daily-requests × days per month" if monthly is None else None,
                origin.where if origin else None,
            )
        return result


CollectedTags = tuple[dict[str, Any], dict[str, str], bool]
"""What :func:`_collect_tags` returns: tags, their property paths, whether the tag map is
unknown."""


class TagCache:
    """Each resource's collected tags, for the readers of one estimate (traffic derivation reads
    a resource's tags several times, then its pricer once more). Made per estimate and dropped
    with it: entries are keyed by the resource object's ``id`` and keep the resource alive, so an
    id cannot be reused while the cache lives. Readers never modify the collected tags."""

    __slots__ = ("_by_id",)

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[Resource, CollectedTags]] = {}

    def collected(self, resource: Resource) -> CollectedTags:
        entry = self._by_id.get(id(resource))
        if entry is None:
            entry = self._by_id[id(resource)] = (resource, _collect_tags(resource))
        return entry[1]

    def copy(self) -> TagCache:
        """A cache holding what this one holds, for an estimate of a copy of the stack that
        shares some of its resource objects (a what-if row): those are not collected again."""
        copied = TagCache()
        copied._by_id = dict(self._by_id)
        return copied


def _collect_tags(resource: Resource) -> tuple[dict[str, Any], dict[str, str], bool]:
    """Merge ``tagsAll`` then ``tags``; return tags, their property paths, and whether the
    tag map itself is unknown, so that a tag it lacks may still be declared: ``tagsAll``
    unknown (pulumi-aws makes the whole map unknown when any tag or provider default tag is),
    or ``tags`` unknown with no known ``tagsAll``."""
    merged: dict[str, Any] = {}
    paths: dict[str, str] = {}
    tags_unknown = all_unknown = False
    for prop in ("tagsAll", "tags"):
        value = resource.properties.get(prop)
        if value is None:
            continue
        if type(value) is not dict and not isinstance(value, Mapping):
            if is_unknown(value):
                if prop == "tags":
                    tags_unknown = True
                else:
                    all_unknown = True
            continue
        for key, tag_value in value.items():
            merged[str(key)] = tag_value
            paths[str(key)] = f"{prop}.{key}"
    known_all = isinstance(resource.properties.get("tagsAll"), Mapping)
    return merged, paths, all_unknown or (tags_unknown and not known_all)


def tag_problems(resource: Resource) -> list[Finding]:
    """Findings for ``cost:*`` tags that are not part of the contract (likely typos)."""
    properties = resource.properties
    if "tags" not in properties and "tagsAll" not in properties:
        return []  # most resources: no tags, nothing to check
    findings: list[Finding] = []
    keys: dict[str, bool] = {}  # key -> whether it is a key of a secret map
    for prop in ("tagsAll", "tags"):
        value = resource.properties.get(prop)
        if type(value) is dict or isinstance(value, Mapping):
            secret_map = bool(resource.secret_paths) and is_secret_path(prop, resource.secret_paths)
            for key in value:
                keys[str(key)] = keys.get(str(key), False) or secret_map
    for key, secret_map in keys.items():  # each key once, in _collect_tags' order
        if key not in USAGE_TAGS_BY_KEY and key.startswith("cost:"):
            close = difflib.get_close_matches(key, list(USAGE_TAGS_BY_KEY), n=1)
            hint = (
                f"did you mean {close[0]}?" if close else "see the usage-tag contract in the README"
            )
            shown = SECRET_DISPLAY if secret_map else key  # a secret map's keys are secret too
            findings.append(
                Finding(
                    "usage-tag-unrecognized",
                    Severity.WARNING,
                    f"{resource.name}: tag {shown} is not a costline usage tag and is ignored",
                    resource.urn,
                    resource.name,
                    f"tags.{shown}",
                    hint if not secret_map else "see the usage-tag contract in the README",
                )
            )
    return findings
