"""Usage and budgets from stack config, so a forecast changes no infrastructure.

A stack's ``Pulumi.<stack>.yaml`` can hold costline's settings in the ``costline`` namespace::

    config:
      costline:budget: 150                   # this stack's monthly budget, USD
      costline:usage:                        # usage by resource name, in the tag contract's keys
        api-handler:
          cost:monthly-requests: 30000
          cost:avg-duration-ms: 800
        artifacts:
          cost:storage-gb: 40

``costline:usage`` uses exactly the ``cost:*`` keys and value rules of the usage-tag contract
(:data:`costline.usage.tags.USAGE_TAGS`); the values become the resource's usage as if they were
tags, validated the same way. The engine hands stack config to a policy pack in
``ConfigureStack`` (every value a string, structured values as JSON; older engines also in
``PULUMI_CONFIG``; see :mod:`costline.policy.bridge`); the CLI reads the stack's file.
Precedence, figure by figure, highest first: a ``cost:*`` tag on the resource (its own or a
provider default tag); ``costline:usage``; a ``--usage-file`` (see :mod:`costline.usage.declared`);
each figure's assumption says which (``stack-config`` names the config and entry). A budget in
stack config overrides the policy config's ``monthlyBudgetUsd`` (one policy group serves many
stacks) and is the default of ``costline check --budget``.

Nothing here raises on bad input: names that match no resource, keys outside the contract and
values that are not numbers or text become ``stack-usage-*`` findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from costline.core.limits import parse_json
from costline.core.model import Finding, Resource, Severity, UsageOrigin, UsageSource
from costline.core.values import SECRET_DISPLAY
from costline.usage.declared import with_usage
from costline.usage.tags import USAGE_TAGS

USAGE_KEY = "costline:usage"
BUDGET_KEY = "costline:budget"
CODE_INVALID = "stack-usage-invalid"
CODE_UNMATCHED = "stack-usage-unmatched"
CODE_UNKNOWN_KEY = "stack-usage-key-unknown"
CODE_ENCRYPTED = "stack-usage-encrypted"
CODE_BUDGET_ENCRYPTED = "stack-budget-encrypted"
_MAX_BUDGET = Decimal("1e15")
_CONTRACT = frozenset(tag.key for tag in USAGE_TAGS)


def _structured(value: Any) -> Any:
    """A config value as the engine passes it (JSON text) or as YAML read it (a mapping)."""
    if isinstance(value, str):
        try:  # NaN and Infinity as text: that figure is refused on its own, not the whole block
            return parse_json(value, constants_as_text=True)  # ValueError past the limits
        except (ValueError, RecursionError):
            return value
    return value


def _finding(code: str, severity: Severity, message: str, field: str) -> Finding:
    return Finding(code, severity, message, field=field)


def read_stack_usage(
    config: Mapping[str, Any], where: str
) -> tuple[dict[str, dict[str, str]], list[Finding]]:
    """``costline:usage`` from ``config`` as {resource name: {tag key: text}}, plus findings.
    ``where`` names the config's origin in messages (``Pulumi.dev.yaml``, ``stack config``)."""
    raw = config.get(USAGE_KEY)
    if raw is None:
        return {}, []
    usage = _structured(raw)
    if not isinstance(usage, Mapping):
        message = f"{where}: {USAGE_KEY} must map resource names to cost:* keys; it is ignored"
        return {}, [_finding(CODE_INVALID, Severity.ERROR, message, USAGE_KEY)]
    values: dict[str, dict[str, str]] = {}
    findings: list[Finding] = []
    for name, keys in usage.items():
        field = f"{USAGE_KEY}.{name}"
        if keys is None:  # a name with every key commented out (as `costline usage init` writes)
            continue
        if not isinstance(keys, Mapping):
            message = f"{where}: {field} must map cost:* keys to values; it is ignored"
            findings.append(_finding(CODE_INVALID, Severity.ERROR, message, field))
            continue
        for key, value in keys.items():
            if key not in _CONTRACT:
                message = f"{where}: {field}.{key} is not a costline usage key; it is ignored"
                findings.append(_finding(CODE_UNKNOWN_KEY, Severity.ERROR, message, field))
            elif isinstance(value, bool) or not isinstance(value, (int, float, str)):
                message = f"{where}: {field}.{key} must be a number or text; it is ignored"
                findings.append(_finding(CODE_INVALID, Severity.ERROR, message, f"{field}.{key}"))
            else:
                # validated later, like any tag, by costline.usage.tags (an int stays exact)
                values.setdefault(str(name), {})[str(key)] = str(value)
    return values, findings


def apply_stack_usage(
    resources: Sequence[Resource],
    config: Mapping[str, Any],
    where: str,
    secret_keys: frozenset[str] = frozenset(),
) -> tuple[list[Resource], list[Finding]]:
    """``resources`` with ``costline:usage`` applied by name, plus findings. ``secret_keys``:
    the config keys that are secrets (``pulumi config set --secret costline:usage ...``): their
    figures are used and never shown."""
    usage, findings = read_stack_usage(config, where)
    if not usage:
        return list(resources), findings
    names = {r.name for r in resources}
    for name in sorted(set(usage) - names):
        message = f"{where}: {USAGE_KEY}.{name} matches no resource of the stack; it is ignored"
        findings.append(_finding(CODE_UNMATCHED, Severity.WARNING, message, f"{USAGE_KEY}.{name}"))
    secret = USAGE_KEY in secret_keys
    tagged = []
    for resource in resources:
        values = usage.get(resource.name, {})
        origin = UsageOrigin(UsageSource.STACK_CONFIG, f"{where}: {USAGE_KEY}.{resource.name}")
        origins = dict.fromkeys(values, origin)
        tagged.append(with_usage(resource, values, origins, secret=secret))
    return tagged, findings


def encrypted_config(encrypted_keys: Iterable[str], where: str) -> list[Finding]:
    """Findings for costline's keys that are encrypted (``secure:``) in stack config, which only
    the Pulumi CLI can decrypt. ``costline:usage``: its figures are unknown offline, so the
    estimate is incomplete (a stack-wide gap: an unknown is never $0), and the finding says how to
    pass them instead. ``costline:budget``: no stack budget can apply (``costline check`` then
    asks for ``--budget``)."""
    keys = frozenset(encrypted_keys)
    findings = []
    if BUDGET_KEY in keys:
        findings.append(
            Finding(
                CODE_BUDGET_ENCRYPTED,
                Severity.WARNING,
                f"{where}: {BUDGET_KEY} is encrypted (secure:), and costline cannot decrypt it "
                "offline: no stack budget applies here",
                field=BUDGET_KEY,
                suggestion="give the budget to `costline check --budget`; the policy pack under "
                "`pulumi preview` gets the decrypted budget and never shows it",
            )
        )
    if USAGE_KEY in keys:
        findings.append(
            Finding(
                CODE_ENCRYPTED,
                Severity.WARNING,
                f"{where}: {USAGE_KEY} is encrypted (secure:, in whole or in part), and costline "
                "cannot decrypt it offline: the usage figures in it are unknown, so the estimate "
                "is incomplete",
                field=USAGE_KEY,
                suggestion=f"pass the figures unencrypted: as plain {USAGE_KEY} in {where}, as "
                "cost:* tags on the resources, or in a --usage-file; the policy pack under "
                "`pulumi preview` gets the decrypted config and uses them",
                gap=f"{USAGE_KEY} encrypted, not readable offline",
            )
        )
    return findings


def stack_budget_usd(
    config: Mapping[str, Any], where: str, *, secret: bool = False
) -> tuple[Decimal | None, Finding | None]:
    """``costline:budget`` as exact USD, or ``None``; a value that is not a plain non-negative
    number is ignored with a finding (the policy config's budget then applies), which shows the
    value unless it is ``secret``."""
    raw = config.get(BUDGET_KEY)
    if raw is None:
        return None, None
    text = str(raw).strip()
    try:
        budget = Decimal(text)
    except InvalidOperation:
        budget = None
    if budget is None or not budget.is_finite() or budget < 0 or budget > _MAX_BUDGET:
        shown = SECRET_DISPLAY if secret else repr(text[:40])
        message = f"{where}: {BUDGET_KEY}={shown} is not a budget in USD; it is ignored"
        return None, _finding(CODE_INVALID, Severity.ERROR, message, BUDGET_KEY)
    return budget, None
