"""A test ``pulumi-resource-aws``: a gRPC ResourceProvider that behaves as pulumi-aws does at
preview, without AWS. For the end-to-end tests only (never a real deployment).

Started by the engine as ``pulumi-resource-aws <engine address>``; it prints its port and serves
``pulumirpc.ResourceProvider`` with the stubs shipped in the pulumi SDK
(``pulumi.runtime.proto.provider_pb2_grpc``). Values use the engine's wire encoding: unknowns are
the sentinel string ``04da6b54-…``, secrets the ``4dabf181…`` envelope.

What each part mirrors, and where it was read:

* ``Configure``: answers ``supportsPreview``, ``acceptSecrets``, ``acceptResources`` as the
  bridge does (pulumi-terraform-bridge ``pkg/tfbridge/provider.go``, Configure), so the engine
  calls ``Create``/``Update`` with ``preview=true`` during a preview. ``CheckConfig`` returns the
  config as given; the provider config (``region``, ``defaultTags``, ``ignoreTags``) is kept.
* ``Check``: returns the inputs with the schema defaults filled in (Lambda ``memorySize`` 128,
  ``timeout`` 3, ``packageType`` Zip, ... — the defaults the pulumi_aws SDK's docstrings state,
  e.g. ``lambda_/function.py``: "memory_size … Defaults to 128", "timeout … Defaults to 3"),
  auto-names (``name``/``bucket`` = ``<logical name>-<7 hex>``, kept from the old inputs when a
  stack exists; pulumi-aws ``provider/autonaming.go``), and ``tagsAll`` = provider
  ``defaultTags.tags`` ∪ ``tags`` less ``ignoreTags``, set on every type that has ``tagsAll``;
  unknown as a whole when any tag or default tag is unknown; ``{}`` when there are none
  (pulumi-aws ``provider/tags.go``, ``applyTags``/``mergeTags``, the ``PreCheckCallback``). The
  bridge hides secrets from that callback and marks the result again; here a secret ``tags``
  map (the Python SDK makes the whole map secret when one value is) makes ``tagsAll`` secret.
* ``Create`` with ``preview=true``: the checked inputs plus every output-only property as
  unknown, and the Optional+Computed inputs the program left unset as unknown too (Lambda
  ``architectures``, ``ephemeralStorage``, …: ``OPTIONAL_COMPUTED`` below, from the
  pulumi_aws SDK docstrings and the Terraform schema they are generated from). Which properties
  are output-only is read from the installed pulumi_aws SDK, which is generated from the
  provider schema: ``_internal_init`` sets exactly the output-only properties to ``None``.
  Without ``preview``, the same properties get made-up values (ARNs in account
  ``123456789012``, AWS's defaults for the Optional+Computed ones: ``["x86_64"]``, 512 MB).
* ``Diff``: compares the new checked inputs with the old inputs; an unknown input is a change;
  a changed auto-named/ForceNew name replaces (``REPLACE_ON``). ``Update`` with ``preview`` keeps
  the old outputs for output-only properties. ``Read`` returns what it is given; ``Delete`` does
  nothing.
* ``Invoke``: ``getRegion`` (the provider's region), ``getPartition`` (``aws``),
  ``getCallerIdentity`` (account ``123456789012``); anything else fails.

It is not pulumi-aws: no validation beyond that, no real identifiers, no AWS calls.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import inspect
import json
import os
import re
import sys
from functools import cache
from typing import Any

from google.protobuf import empty_pb2, json_format, struct_pb2
from plugin_server import serve
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_KEY = "1b47061264138c4ac30d75fd1eb44270"
ACCOUNT_ID = "123456789012"
VERSION = os.environ.get("COSTLINE_E2E_AWS_VERSION", "7.0.0")

# Schema defaults the bridge fills in Check (values from the pulumi_aws SDK docstrings).
DEFAULTS: dict[str, dict[str, Any]] = {
    "aws:lambda/function:Function": {
        "memorySize": 128,
        "timeout": 3,
        "packageType": "Zip",
        "publish": False,
        "reservedConcurrentExecutions": -1,
        "skipDestroy": False,
    },
    "aws:iam/role:Role": {"forceDetachPolicies": False, "maxSessionDuration": 3600, "path": "/"},
    "aws:s3/bucket:Bucket": {"forceDestroy": False},
    "aws:apigateway/integration:Integration": {
        "connectionType": "INTERNET",
        "timeoutMilliseconds": 29000,
    },
    "aws:apigateway/method:Method": {"apiKeyRequired": False},
}

# Optional+Computed inputs: unknown at preview when unset, then AWS's value.
OPTIONAL_COMPUTED: dict[str, dict[str, Any]] = {
    "aws:lambda/function:Function": {
        "architectures": ["x86_64"],
        "ephemeralStorage": {"size": 512},
        "loggingConfig": {"logFormat": "Text", "logGroup": "/aws/lambda/fn"},
        "tracingConfig": {"mode": "PassThrough"},
        "sourceCodeHash": "e2e",
    },
    "aws:apigateway/restApi:RestApi": {
        "apiKeySource": "HEADER",
        "disableExecuteApiEndpoint": False,
        "endpointConfiguration": {"types": "EDGE"},
    },
    "aws:s3/bucket:Bucket": {"objectLockEnabled": False},
}

# Auto-named properties (pulumi-aws provider/autonaming.go; ForceNew in the Terraform schema).
AUTONAME: dict[str, str] = {
    "aws:lambda/function:Function": "name",
    "aws:iam/role:Role": "name",
    "aws:iam/rolePolicy:RolePolicy": "name",
    "aws:apigateway/restApi:RestApi": "name",
    "aws:s3/bucket:Bucket": "bucket",
}
REPLACE_ON: dict[str, set[str]] = {t: {p} for t, p in AUTONAME.items()}


def _is_unknown(value: Any) -> bool:
    if value == UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(_is_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_is_unknown(v) for v in value)
    return False


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_KEY


def _reveal(value: Any) -> Any:
    if _is_secret(value):
        return _reveal(value.get("value"))
    if isinstance(value, dict):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_reveal(v) for v in value]
    return value


def _has_secret(value: Any) -> bool:
    if _is_secret(value):
        return True
    if isinstance(value, dict):
        return any(_has_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secret(v) for v in value)
    return False


def _secret(value: Any) -> dict[str, Any]:
    return {SECRET_SIG: SECRET_KEY, "value": value}


def _to_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(struct)


def _to_struct(value: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(value)
    return out


def _type_of(urn: str) -> str:
    # urn:pulumi:<stack>::<project>::<parent types $>…<type>::<name>
    return urn.split("::")[2].split("$")[-1]


def _name_of(urn: str) -> str:
    return urn.split("::")[3]


@cache
def output_only(type_token: str) -> tuple[str, ...]:
    """Output-only properties of a resource type, from the generated pulumi_aws SDK class."""
    try:
        _, mod_path, cls_name = type_token.split(":")
        module = mod_path.split("/")[0]
        mod = importlib.import_module(
            f"pulumi_aws.{module}_" if module in {"lambda"} else f"pulumi_aws.{module}"
        )
        cls = getattr(mod, cls_name)
        source = inspect.getsource(cls._internal_init)
    except (ValueError, ImportError, AttributeError, OSError, TypeError):
        return ()
    names = []
    for py_name in re.findall(r'__props__\.__dict__\["(\w+)"\] = None', source):
        prop = getattr(cls, py_name, None)
        names.append(getattr(getattr(prop, "fget", None), "_pulumi_name", py_name))
    return tuple(dict.fromkeys(names))


class Provider(provider_pb2_grpc.ResourceProviderServicer):
    def __init__(self) -> None:
        self.config: dict[str, Any] = {}

    # --- provider configuration -------------------------------------------------------------
    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=VERSION)

    def GetSchema(self, request, context):
        return provider_pb2.GetSchemaResponse(
            schema=json.dumps({"name": "aws", "version": VERSION})
        )

    def CheckConfig(self, request, context):
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request, context):
        same = _to_dict(request.olds) == _to_dict(request.news)
        changes = (
            provider_pb2.DiffResponse.DIFF_NONE if same else provider_pb2.DiffResponse.DIFF_SOME
        )
        return provider_pb2.DiffResponse(changes=changes)

    def Configure(self, request, context):
        config = _to_dict(request.args) if request.HasField("args") else {}
        for key, value in request.variables.items():  # older engines: "aws:region" → JSON text
            short = key.split(":config:")[-1].split(":")[-1]
            if short not in config:
                try:
                    config[short] = json.loads(value)
                except ValueError:
                    config[short] = value
        # Object-typed settings from stack config (``aws:defaultTags``) reach the provider as JSON
        # text; the bridge decodes them by the config schema's type, as here.
        for key in ("defaultTags", "ignoreTags", "assumeRole", "endpoints"):
            value = config.get(key)
            if isinstance(value, str) and value[:1] in "{[":
                with contextlib.suppress(ValueError):
                    config[key] = json.loads(value)
        self.config = config
        return provider_pb2.ConfigureResponse(
            acceptSecrets=True, supportsPreview=True, acceptResources=True, acceptOutputs=False
        )

    @property
    def region(self) -> str:
        region = self.config.get("region")
        return _reveal(region) if isinstance(region, (str, dict)) else "us-east-1"

    # --- resources ----------------------------------------------------------------------------
    def _tags_all(self, tags: Any) -> Any:
        meta = {k: self.config.get(k) for k in ("defaultTags", "ignoreTags")}
        if _is_unknown(meta) or _is_unknown(tags):
            return UNKNOWN
        secret = _has_secret(tags)
        defaults = _reveal(meta["defaultTags"]) or {}
        default_tags = (defaults.get("tags") if isinstance(defaults, dict) else None) or {}
        merged = {**default_tags, **(_reveal(tags) or {})}
        ignore = _reveal(meta["ignoreTags"] or {})
        keys = set(ignore.get("keys") or [])
        prefixes = tuple(ignore.get("keyPrefixes") or [])
        merged = {
            k: v
            for k, v in merged.items()
            if k not in keys and not (prefixes and k.startswith(prefixes))
        }
        return _secret(merged) if secret else merged

    def Check(self, request, context):
        type_token = request.type or _type_of(request.urn)
        news = _to_dict(request.news)
        olds = _to_dict(request.olds)
        inputs = {**DEFAULTS.get(type_token, {}), **news}
        name_prop = AUTONAME.get(type_token)
        if name_prop and name_prop not in news:
            if name_prop in olds:
                inputs[name_prop] = olds[name_prop]
            else:
                seed = request.randomSeed or request.urn.encode()
                suffix = hashlib.sha256(seed + request.urn.encode()).hexdigest()[:7]
                name = f"{request.name or _name_of(request.urn)}-{suffix}"
                inputs[name_prop] = name.lower() if type_token == "aws:s3/bucket:Bucket" else name
        if "tagsAll" in output_only(type_token):
            inputs["tagsAll"] = self._tags_all(news.get("tags"))
        return provider_pb2.CheckResponse(inputs=_to_struct(inputs))

    def _computed(
        self, type_token: str, urn: str, inputs: dict[str, Any], ident: str
    ) -> dict[str, Any]:
        """Made-up values of the output-only properties after a create."""
        service = type_token.split(":")[1].split("/")[0]
        arn = f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{_name_of(urn)}/{ident}"
        values: dict[str, Any] = {}
        for prop in output_only(type_token):
            if prop == "tagsAll":
                continue
            if prop == "arn":
                values[prop] = arn
            elif prop == "invokeArn":
                values[prop] = (
                    f"arn:aws:apigateway:{self.region}:lambda:path/2015-03-31/functions/"
                    f"{arn}/invocations"
                )
            elif prop == "executionArn":
                values[prop] = f"arn:aws:execute-api:{self.region}:{ACCOUNT_ID}:{ident}"
            elif prop == "sourceCodeSize":
                values[prop] = 1024
            elif prop.endswith("Arn"):
                values[prop] = f"{arn}:{prop}"
            else:
                values[prop] = f"{ident}-{prop}"
        for prop, default in OPTIONAL_COMPUTED.get(type_token, {}).items():
            if prop not in inputs:
                values[prop] = default
        return values

    def Create(self, request, context):
        type_token = request.type or _type_of(request.urn)
        inputs = _to_dict(request.properties)
        outputs = dict(inputs)
        if "region" not in outputs:
            outputs["region"] = self.region
        if request.preview:
            for prop in output_only(type_token):
                if prop != "tagsAll":
                    outputs[prop] = UNKNOWN
            for prop in OPTIONAL_COMPUTED.get(type_token, {}):
                outputs.setdefault(prop, UNKNOWN)
            return provider_pb2.CreateResponse(id="", properties=_to_struct(outputs))
        name_prop = AUTONAME.get(type_token)
        ident = (
            str(_reveal(inputs.get(name_prop)) if name_prop else "")
            or hashlib.sha256(request.urn.encode()).hexdigest()[:12]
        )
        outputs.update(self._computed(type_token, request.urn, inputs, ident))
        return provider_pb2.CreateResponse(id=ident, properties=_to_struct(outputs))

    def Diff(self, request, context):
        type_token = request.type or _type_of(request.urn)
        olds = (
            _to_dict(request.old_inputs)
            if request.HasField("old_inputs")
            else _to_dict(request.olds)
        )
        news = _to_dict(request.news)
        changed = sorted(
            k
            for k in set(olds) | set(news)
            if k != "tagsAll" and (olds.get(k) != news.get(k) or _is_unknown(news.get(k)))
        )
        if (
            news.get("tagsAll") != olds.get("tagsAll", news.get("tagsAll"))
            and "tagsAll" not in changed
        ):
            changed.append("tagsAll")
        replaces = sorted(set(changed) & REPLACE_ON.get(type_token, set()))
        if not changed:
            return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)
        kind = provider_pb2.PropertyDiff
        detailed = {
            k: kind(kind=(kind.UPDATE_REPLACE if k in replaces else kind.UPDATE), inputDiff=True)
            for k in changed
        }
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME,
            replaces=replaces,
            diffs=changed,
            detailedDiff=detailed,
            hasDetailedDiff=True,
        )

    def Update(self, request, context):
        type_token = request.type or _type_of(request.urn)
        olds = _to_dict(request.olds)
        outputs = dict(_to_dict(request.news))
        for prop in output_only(type_token):
            if prop != "tagsAll" and prop in olds:
                outputs[prop] = olds[prop]
        for prop in OPTIONAL_COMPUTED.get(type_token, {}):
            if prop not in outputs and prop in olds:
                outputs[prop] = olds[prop]
        outputs.setdefault("region", olds.get("region", self.region))
        return provider_pb2.UpdateResponse(properties=_to_struct(outputs))

    def Read(self, request, context):
        return provider_pb2.ReadResponse(
            id=request.id, properties=request.properties, inputs=request.inputs
        )

    def Delete(self, request, context):
        return empty_pb2.Empty()

    def Cancel(self, request, context):
        return empty_pb2.Empty()

    # --- functions ----------------------------------------------------------------------------
    def Invoke(self, request, context):
        region = self.region
        results = {
            "aws:index/getRegion:getRegion": {
                "region": region,
                "name": region,
                "id": region,
                "endpoint": f"ec2.{region}.amazonaws.com",
                "description": region,
            },
            "aws:index/getPartition:getPartition": {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "id": "aws",
                "reverseDnsPrefix": "com.amazonaws",
            },
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "accountId": ACCOUNT_ID,
                "id": ACCOUNT_ID,
                "userId": "AIDACOSTLINEE2ETEST",
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/costline-e2e",
            },
        }
        if request.tok not in results:
            failure = provider_pb2.CheckFailure(
                property="", reason=f"{request.tok} is not served by the test provider"
            )
            return provider_pb2.InvokeResponse(failures=[failure])
        return provider_pb2.InvokeResponse(**{"return": _to_struct(results[request.tok])})


def main(argv: list[str]) -> int:
    return serve(
        lambda server: provider_pb2_grpc.add_ResourceProviderServicer_to_server(Provider(), server),
        max_workers=8,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
