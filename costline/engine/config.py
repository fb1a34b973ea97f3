"""Policy config as the engine reconciles it: levels, schema defaults, the user's config,
validation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import jsonschema

from costline.engine.errors import ConfigProblem, HarnessConfigError
from costline.engine.results import ENFORCEMENT_LEVELS, PolicyInfo

# --------------------------------------------------------------------------------------------
# Config reconciliation (pkg/resource/analyzer/config.go)


def normalize_user_config(config: Mapping[str, Any] | None) -> dict[str, tuple[str, dict]]:
    """``parsePolicyPackConfig``: name -> (level or "", properties)."""
    result: dict[str, tuple[str, dict]] = {}
    problems: list[ConfigProblem] = []
    for name, value in (config or {}).items():
        level, props = "", {}
        if isinstance(value, str):
            level = value
            if level not in ENFORCEMENT_LEVELS:
                problems.append(
                    ConfigProblem(name, "", f"{value!r} is not a valid enforcement level")
                )
                continue
        elif isinstance(value, Mapping):
            props = dict(value)
            if "enforcementLevel" in props:
                level = props.pop("enforcementLevel")
                if not isinstance(level, str) or level not in ENFORCEMENT_LEVELS:
                    problems.append(
                        ConfigProblem(
                            name, "enforcementLevel", f"{level!r} is not a valid enforcement level"
                        )
                    )
                    continue
        else:
            problems.append(
                ConfigProblem(
                    name, "", f"{value!r} is not a valid value; must be a string or object"
                )
            )
            continue
        if level or props:  # the engine drops empty entries
            result[name] = (level, props)
    if problems:
        raise HarnessConfigError(problems)
    return result


def apply_config(
    result: dict[str, tuple[str, dict | None]], to_apply: Mapping[str, tuple[str, dict]]
) -> None:
    """``applyConfig``: ``all`` first, then every entry (``all`` and unknown names included)."""
    all_level = to_apply.get("all", ("", {}))[0]
    if all_level:
        for name, (_, props) in result.items():
            result[name] = (all_level, props)
    for name, (level, props) in to_apply.items():
        cur_level, cur_props = result.get(name, ("", None))
        new_props = cur_props
        if props:
            new_props = dict(cur_props or {})
            new_props.update(props)
        result[name] = (level or cur_level, new_props)


def policy_properties(cfg: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in cfg.items() if k != "enforcementLevel"}


def config_problems(policy: PolicyInfo, props: Mapping[str, Any]) -> list[ConfigProblem]:
    schema: dict[str, Any] = {"type": "object"}
    if policy.config_schema.get("properties"):
        schema["properties"] = policy.config_schema["properties"]
    if policy.config_schema.get("required"):
        schema["required"] = policy.config_schema["required"]
    try:
        validator = jsonschema.Draft7Validator(schema)
        errors = sorted(validator.iter_errors(dict(props)), key=lambda e: list(e.absolute_path))
    except jsonschema.SchemaError as e:
        return [ConfigProblem(policy.name, "", f"invalid config schema: {e.message}")]
    problems = []
    for error in errors:
        field_ = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required" and not field_:
            match = re.match(r"'(.+)' is a required property", error.message)
            field_ = match.group(1) if match else ""
        problems.append(ConfigProblem(policy.name, field_, error.message))
    return problems
