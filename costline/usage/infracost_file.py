"""Infracost usage files (``infracost-usage.yml``) as costline ``cost:*`` tags.

Teams moving from Terraform keep their usage data: ``costline estimate --usage-file FILE`` reads
``version: 0.1`` files with ``resource_usage`` (by Terraform address) and
``resource_type_default_usage`` (by Terraform type), and turns the keys that fit into the
equivalent usage tags (:data:`KEYS`; units as Infracost documents them):

=========================  ==========================  ==============================
Terraform type             Infracost key               costline tag
=========================  ==========================  ==============================
aws_lambda_function        monthly_requests            cost:monthly-requests
aws_lambda_function        request_duration_ms         cost:avg-duration-ms
aws_api_gateway_rest_api   monthly_requests            cost:monthly-requests
aws_s3_bucket              storage_gb                  cost:storage-gb (Standard)
aws_s3_bucket              monthly_tier_1_requests     cost:monthly-put-requests
aws_s3_bucket              monthly_tier_2_requests     cost:monthly-get-requests
=========================  ==========================  ==============================

S3 keys may sit at the top of the bucket's usage or under ``standard:`` (Infracost's layout).
Addresses match resources by name: ``aws_lambda_function.api_handler`` (also inside ``module.x.``
and with ``[0]`` / ``["key"]`` indexes) matches a Lambda named ``api_handler`` or ``api-handler``;
a plain ``api-handler`` matches a resource of that name of any supported type.

**Precedence**, figure by figure (highest first): a ``cost:*`` tag on the resource (its own or a
provider default tag); ``costline:usage`` in stack config (the CLI applies it first); the usage
file's ``resource_usage`` entry for the resource; its ``resource_type_default_usage`` for the
type. Each figure taken from the file is shown as ``usage-file`` with the file and entry.
Keys, addresses and types that do not map become ``usage-file-*`` findings. A file that cannot be
used at all (not YAML, not a mapping, a version other than 0.1, a section that is not a mapping)
raises :class:`UsageFileError` naming the file: its usage must never be dropped in silence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from costline.core.model import Finding, Resource, Severity, UsageOrigin, UsageSource
from costline.usage.declared import with_usage
from costline.usage.tags import (
    AVG_DURATION_MS,
    MONTHLY_GET_REQUESTS,
    MONTHLY_PUT_REQUESTS,
    MONTHLY_REQUESTS,
    STORAGE_GB,
)

__all__ = ["KEYS", "TERRAFORM_TYPES", "apply_usage_file", "read_usage_file"]

TERRAFORM_TYPES: Mapping[str, tuple[str, ...]] = {
    "aws_lambda_function": ("aws:lambda/function:Function",),
    "aws_api_gateway_rest_api": ("aws:apigateway/restApi:RestApi",),
    "aws_s3_bucket": ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"),
}
"""Terraform resource type -> the Pulumi type tokens it corresponds to."""

KEYS: Mapping[str, Mapping[str, str]] = {
    "aws_lambda_function": {
        "monthly_requests": MONTHLY_REQUESTS.key,
        "request_duration_ms": AVG_DURATION_MS.key,
    },
    "aws_api_gateway_rest_api": {"monthly_requests": MONTHLY_REQUESTS.key},
    "aws_s3_bucket": {
        "storage_gb": STORAGE_GB.key,
        "monthly_tier_1_requests": MONTHLY_PUT_REQUESTS.key,
        "monthly_tier_2_requests": MONTHLY_GET_REQUESTS.key,
    },
}
"""Terraform type -> Infracost usage key -> costline tag key."""

_NESTED_S3_CLASS = "standard"
_INDEX = re.compile(r"\[[^\]]*\]$")
CODE_UNMATCHED = "usage-file-unmatched"
CODE_UNMAPPED = "usage-file-key-unmapped"
CODE_INVALID = "usage-file-invalid"


class UsageFileError(ValueError):
    """A usage file that cannot be used at all; the message names the file and what is wrong."""


def read_usage_file(text: str, name: str) -> tuple[Mapping[str, Any], list[Finding]]:
    """The parsed usage document (and no findings: the whole-file checks raise).

    Raises :class:`UsageFileError` when the text is not YAML, not a mapping, has a version other
    than 0.1, or a section (``resource_usage``, ``resource_type_default_usage``) that is not a
    mapping."""
    import yaml

    from costline.core.limits import LimitError, load_yaml, strict_safe_loader, yaml_problem

    try:
        document = load_yaml(text, strict_safe_loader())  # a key given twice is refused
    except yaml.YAMLError as exc:
        raise UsageFileError(
            f"{name}: not valid YAML ({yaml_problem(exc)}); expected an Infracost usage file "
            "(version: 0.1, resource_usage: ...)"
        ) from None
    except LimitError as exc:
        raise UsageFileError(f"{name}: {exc}") from None
    if not isinstance(document, Mapping):
        raise UsageFileError(
            f"{name}: expected a mapping with version: 0.1 and resource_usage, "
            f"got {'nothing' if document is None else type(document).__name__}"
        )
    if str(document.get("version")) != "0.1":
        shown = repr(document.get("version")) if "version" in document else "missing"
        raise UsageFileError(
            f"{name}: version: {shown[:40]} is not 0.1, the Infracost usage file version "
            "costline reads"
        )
    for key in ("resource_type_default_usage", "resource_usage"):
        if not isinstance(document.get(key) or {}, Mapping):
            raise UsageFileError(f"{name}: {key} must be a mapping of names to usage")
    return document, []


def apply_usage_file(
    resources: Sequence[Resource], document: Mapping[str, Any], name: str = "infracost-usage.yml"
) -> tuple[list[Resource], list[Finding]]:
    """``resources`` with the usage file's values added as ``cost:*`` tags, plus findings.

    Pure: returns new resources (unchanged ones are the same objects). See the module doc for the
    key table and the precedence.
    """
    findings: list[Finding] = []
    per_resource: dict[str, dict[str, str]] = {}
    origins: dict[str, dict[str, UsageOrigin]] = {}

    def add(resource: Resource, values: Mapping[str, str], path: str) -> None:
        per_resource.setdefault(resource.urn, {}).update(values)
        origin = UsageOrigin(UsageSource.USAGE_FILE, f"{name}: {path}")
        origins.setdefault(resource.urn, {}).update(dict.fromkeys(values, origin))

    defaults = _section(document, "resource_type_default_usage", name, findings)
    for default_type, usage in defaults.items():
        if default_type not in KEYS:
            findings.append(
                _finding(
                    CODE_UNMAPPED,
                    Severity.INFO,
                    f"{name}: no costline mapping for Terraform type {default_type!r}",
                    field=f"resource_type_default_usage.{default_type}",
                )
            )
            continue
        where = f"resource_type_default_usage.{default_type}"
        values = _mapped(default_type, usage, where, name, findings)
        for resource in resources:
            if resource.type in TERRAFORM_TYPES[default_type]:
                add(resource, values, where)
    for address, usage in _section(document, "resource_usage", name, findings).items():
        tf_type, resource_name = _split(str(address))
        matches = [r for r in resources if _matches(r, tf_type, resource_name)]
        if tf_type is not None and tf_type not in KEYS:
            findings.append(
                _finding(
                    CODE_UNMAPPED,
                    Severity.INFO,
                    f"{name}: no costline mapping for {address!r}",
                    field=f"resource_usage.{address}",
                )
            )
            continue
        if not matches:
            findings.append(
                _finding(
                    CODE_UNMATCHED,
                    Severity.WARNING,
                    f"{name}: {address!r} matches no resource of the stack; its usage is ignored",
                    field=f"resource_usage.{address}",
                    suggestion="use the Pulumi resource name, e.g. aws_lambda_function.api_handler "
                    "for 'api-handler'",
                )
            )
            continue
        for resource in matches:
            resource_type = tf_type or _terraform_type(resource)
            if resource_type is None:
                continue
            path = f"resource_usage.{address}"
            add(resource, _mapped(resource_type, usage, path, name, findings), path)
    return [
        with_usage(r, per_resource.get(r.urn, {}), origins.get(r.urn, {})) for r in resources
    ], findings


def _section(
    document: Mapping[str, Any], key: str, name: str, findings: list[Finding]
) -> Mapping[str, Any]:
    value = document.get(key) or {}
    if not isinstance(value, Mapping):
        raise UsageFileError(f"{name}: {key} must be a mapping of names to usage")
    return value


def _mapped(
    tf_type: str, usage: Any, path: str, name: str, findings: list[Finding]
) -> dict[str, str]:
    """Tag values (as plain decimal text) for the keys of ``usage`` that map; findings for the
    rest."""
    if not isinstance(usage, Mapping):
        findings.append(
            _finding(
                CODE_INVALID,
                Severity.ERROR,
                f"{name}: {path} must be a mapping of usage keys",
                field=path,
            )
        )
        return {}
    flat = dict(usage)
    nested = flat.pop(_NESTED_S3_CLASS, None) if tf_type == "aws_s3_bucket" else None
    if isinstance(nested, Mapping):
        flat = {**flat, **nested}
    values: dict[str, str] = {}
    for key, value in flat.items():
        tag = KEYS[tf_type].get(str(key))
        if tag is None:
            findings.append(
                _finding(
                    CODE_UNMAPPED,
                    Severity.INFO,
                    f"{name}: {path}.{key} has no costline equivalent; ignored",
                    field=f"{path}.{key}",
                )
            )
        elif isinstance(value, bool) or not isinstance(value, (int, float, str)):
            findings.append(
                _finding(
                    CODE_INVALID,
                    Severity.ERROR,
                    f"{name}: {path}.{key} is not a number",
                    field=f"{path}.{key}",
                )
            )
        else:
            values[tag] = str(value)  # validated later, like any tag, by costline.usage.tags
    return values


def _split(address: str) -> tuple[str | None, str]:
    """``module.a.aws_lambda_function.api_handler[0]`` -> (``aws_lambda_function``,
    ``api_handler``)."""
    parts = _INDEX.sub("", address).split(".")
    while len(parts) > 2 and parts[0] == "module":
        parts = parts[2:]
    if len(parts) >= 2 and parts[-2].startswith("aws_"):
        return parts[-2], parts[-1]
    return None, parts[-1]


def _normal(name: str) -> str:
    return name.lower().replace("-", "_")


def _matches(resource: Resource, tf_type: str | None, name: str) -> bool:
    if _normal(resource.name) != _normal(name):
        return False
    if tf_type is None:
        return _terraform_type(resource) is not None
    return resource.type in TERRAFORM_TYPES.get(tf_type, ())


def _terraform_type(resource: Resource) -> str | None:
    return next((tf for tf, tokens in TERRAFORM_TYPES.items() if resource.type in tokens), None)


def _finding(
    code: str,
    severity: Severity,
    message: str,
    field: str | None = None,
    suggestion: str | None = None,
) -> Finding:
    return Finding(
        code=code, severity=severity, message=message, field=field, suggestion=suggestion
    )
