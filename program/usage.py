"""Stack config → validated settings → the ``cost:*`` usage tags each resource carries.

Pure Python (no ``pulumi`` import) so it can be read and tested on its own. Numbers are kept
as ``Decimal`` and written as plain decimal strings (``1000``, ``0.5``), the form the costline
usage-tag contract accepts: no exponent, no thousands separator, no sign.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

NAMESPACE = "costline-reference"
LAMBDA_ARCHITECTURES = ("x86_64", "arm64")
LAMBDA_MIN_MEMORY_MB, LAMBDA_MAX_MEMORY_MB = 128, 10240
LAMBDA_MAX_TIMEOUT_S = 900


class ConfigError(ValueError):
    """One or more stack config values are missing or invalid; the message names every one."""


@dataclass(frozen=True)
class Settings:
    """The stack's validated config. See ``__main__.py`` for what each key means."""

    developers: Decimal
    calls_per_developer_per_day: Decimal
    input_tokens_per_call: Decimal
    output_tokens_per_call: Decimal
    bedrock_model_id: str
    bedrock_inference_profile_id: str | None
    lambda_avg_duration_ms: Decimal
    lambda_memory_mb: int
    lambda_timeout_s: int
    lambda_architecture: str
    artifact_storage_gb: Decimal
    artifact_reads_per_call: Decimal
    artifact_puts_per_month: Decimal
    days_per_month: Decimal | None
    owner: str

    # --- derived figures ----------------------------------------------------------------
    @property
    def daily_requests(self) -> Decimal:
        """API calls per day: developers × calls per developer per day."""
        return self.developers * self.calls_per_developer_per_day

    @property
    def monthly_requests(self) -> Decimal:
        return self.daily_requests * (self.days_per_month or Decimal(30))

    # --- tags -----------------------------------------------------------------------------
    def base_tags(self, project: str, stack: str) -> dict[str, str]:
        """Plain ownership tags every taggable resource carries."""
        return {"project": project, "stack": stack, "owner": self.owner}

    def traffic_tags(self) -> dict[str, str]:
        """Requests per day (and the days per month when configured)."""
        tags = {"cost:daily-requests": plain(self.daily_requests)}
        if self.days_per_month is not None:
            tags["cost:days-per-month"] = plain(self.days_per_month)
        return tags

    def model_tags(self) -> dict[str, str]:
        """The Bedrock model and the tokens each request sends and receives."""
        return {
            "cost:bedrock-model": self.bedrock_model_id,
            "cost:input-tokens": plain(self.input_tokens_per_call),
            "cost:output-tokens": plain(self.output_tokens_per_call),
        }

    def api_tags(self) -> dict[str, str]:
        """REST API and its stage: every API call is one request."""
        return self.traffic_tags()

    def lambda_tags(self) -> dict[str, str]:
        """The handler runs once per API call for ``lambdaAvgDurationMs`` and calls the model
        once."""
        return {
            **self.traffic_tags(),
            "cost:avg-duration-ms": plain(self.lambda_avg_duration_ms),
            **self.model_tags(),
        }

    def inference_profile_tags(self) -> dict[str, str]:
        """One model invocation per API call."""
        return {**self.traffic_tags(), **self.model_tags()}

    def bucket_tags(self) -> dict[str, str]:
        """Artifacts stored, one read per call (× ``artifactReadsPerCall``), a few uploads."""
        return {
            "cost:storage-gb": plain(self.artifact_storage_gb),
            "cost:monthly-get-requests": plain(
                self.monthly_requests * self.artifact_reads_per_call
            ),
            "cost:monthly-put-requests": plain(self.artifact_puts_per_month),
        }


def plain(value: Decimal) -> str:
    """A plain decimal string: ``Decimal('1000')`` → ``'1000'``, ``Decimal('2.50')`` → ``'2.5'``."""
    text = format(value.normalize(), "f")
    return text


def load_settings(get: Callable[[str], str | None]) -> Settings:
    """Read and validate the stack config.

    ``get(key)`` returns the raw string for ``costline-reference:<key>`` or ``None`` (for
    ``pulumi.Config().get``). Every problem is collected; one :class:`ConfigError` names them all.
    """
    reader = _Reader(get)
    settings = Settings(
        developers=reader.number("developers", whole=True),
        calls_per_developer_per_day=reader.number("callsPerDeveloperPerDay"),
        input_tokens_per_call=reader.number("inputTokensPerCall", whole=True),
        output_tokens_per_call=reader.number("outputTokensPerCall", whole=True),
        bedrock_model_id=reader.text("bedrockModelId"),
        bedrock_inference_profile_id=reader.text("bedrockInferenceProfileId", required=False),
        lambda_avg_duration_ms=reader.number("lambdaAvgDurationMs"),
        lambda_memory_mb=int(
            reader.number(
                "lambdaMemoryMb",
                default="512",
                whole=True,
                bounds=(LAMBDA_MIN_MEMORY_MB, LAMBDA_MAX_MEMORY_MB),
            )
        ),
        lambda_timeout_s=int(
            reader.number(
                "lambdaTimeoutSeconds", default="30", whole=True, bounds=(1, LAMBDA_MAX_TIMEOUT_S)
            )
        ),
        lambda_architecture=reader.choice(
            "lambdaArchitecture", LAMBDA_ARCHITECTURES, default="x86_64"
        ),
        artifact_storage_gb=reader.number("artifactStorageGb"),
        artifact_reads_per_call=reader.number("artifactReadsPerCall", default="1", allow_zero=True),
        artifact_puts_per_month=reader.number(
            "artifactPutsPerMonth", default="100", allow_zero=True
        ),
        days_per_month=reader.optional_number("daysPerMonth", bounds=(1, 31)),
        owner=reader.text("owner", required=False) or "platform-team",
    )
    if (
        settings.lambda_avg_duration_ms > settings.lambda_timeout_s * 1000
        and "lambdaAvgDurationMs" not in reader.bad
    ):
        reader.problem(
            "lambdaAvgDurationMs",
            f"is {plain(settings.lambda_avg_duration_ms)} ms, longer than the "
            f"{settings.lambda_timeout_s} s timeout",
        )
    reader.raise_if_bad()
    return settings


class _Reader:
    def __init__(self, get: Callable[[str], str | None]) -> None:
        self._get = get
        self.problems: list[str] = []
        self.bad: set[str] = set()

    def problem(self, key: str, message: str) -> None:
        self.bad.add(key)
        self.problems.append(f"{NAMESPACE}:{key} {message}")

    def raise_if_bad(self) -> None:
        if self.problems:
            raise ConfigError("invalid stack config: " + "; ".join(self.problems))

    def _raw(self, key: str) -> str | None:
        value = self._get(key)
        return None if value is None else str(value)

    def number(
        self,
        key: str,
        *,
        default: str | None = None,
        whole: bool = False,
        allow_zero: bool = False,
        bounds: tuple[int, int] | None = None,
    ) -> Decimal:
        raw = self._raw(key)
        if raw is None:
            if default is None:
                self.problem(key, f"is not set (e.g. `pulumi config set {key} 10`)")
                return Decimal(1)
            raw = default
        value = _parse(raw)
        kind = "whole number" if whole else "number"
        if value is None:
            self.problem(
                key, f"must be a {'non-negative' if allow_zero else 'positive'} {kind}, got {raw!r}"
            )
            return Decimal(1)
        if value < 0 or (value == 0 and not allow_zero):
            self.problem(
                key, f"must be {'zero or more' if allow_zero else 'greater than zero'}, got {raw!r}"
            )
            return Decimal(1)
        if whole and value != value.to_integral_value():
            self.problem(key, f"must be a whole number, got {raw!r}")
            return Decimal(1)
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            self.problem(key, f"must be between {bounds[0]} and {bounds[1]}, got {raw!r}")
            return Decimal(bounds[0])
        return value

    def optional_number(self, key: str, *, bounds: tuple[int, int]) -> Decimal | None:
        if self._raw(key) is None:
            return None
        return self.number(key, bounds=bounds)

    def text(self, key: str, *, required: bool = True) -> str | None:  # type: ignore[return]
        raw = self._raw(key)
        if raw is None or not raw.strip():
            if required:
                self.problem(key, "is not set")
                return ""
            return None
        if raw != raw.strip():
            self.problem(key, f"has leading or trailing whitespace: {raw!r}")
        return raw.strip()

    def choice(self, key: str, allowed: tuple[str, ...], *, default: str) -> str:
        raw = self._raw(key)
        if raw is None:
            return default
        if raw not in allowed:
            self.problem(key, f"must be one of {', '.join(allowed)}, got {raw!r}")
            return default
        return raw


def _parse(raw: str) -> Decimal | None:
    text = raw.strip()
    if not text or any(ch not in "0123456789.-+" for ch in text):
        return None  # rejects exponents, separators, 'nan', 'inf'
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def settings_from_mapping(values: Mapping[str, str]) -> Settings:
    """:func:`load_settings` over a plain mapping of unqualified keys (for tests and tools)."""
    return load_settings(values.get)
