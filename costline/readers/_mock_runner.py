"""Run one Pulumi Python program under Pulumi's mocks and print what it registered, as JSON.

Started by :func:`costline.readers.mocks.run_program` in a subprocess, by file path
(``python .../_mock_runner.py PROGRAM --project P --stack S``), so that neither the program nor
the ``pulumi`` SDK is imported into the caller, and so that this script imports nothing from
costline. It does what the Python language host (``pulumi-language-python-exec``) does, with a
mock monitor in place of the engine:

* config comes from ``PULUMI_CONFIG`` / ``PULUMI_CONFIG_SECRET_KEYS`` (JSON, set by the caller)
  and is installed with ``pulumi.runtime.set_all_config`` — the language host's own call;
* the runtime is configured as ``pulumi.runtime.set_mocks`` does, but without the root stack
  ``set_mocks`` creates and finalises at once (its exports would never be registered and
  ``pulumi.run`` would be refused); the program then runs inside
  ``pulumi.runtime.stack.run_in_stack`` from the program directory, as under ``pulumi preview``
  (dry run: ``pulumi.runtime.is_dry_run()`` is true);
* :class:`CapturingMonitor` (a ``MockMonitor``) records every ``RegisterResource`` request:
  type, name, parent, ``custom``, provider, the inputs as sent on the wire (``request.object``:
  camelCase names, secret envelopes, unknown sentinels), ``request.dependencies`` and
  ``request.propertyDependencies`` — the dependency graph the SDK computed from the Outputs the
  program passed in — and builds URNs exactly as the engine does (no ``pulumi:pulumi:Stack$``
  segment, which ``MockMonitor.make_urn`` adds);
* custom resources without an explicit provider get the engine's default provider,
  ``pulumi:providers:<pkg>::default_<version>``, with the ``<pkg>:*`` config as its inputs.

stdout carries exactly one JSON object: ``{"ok": true, "resources": [ResourceV3, ...],
"outputs": {...}, "diagnostics": [...]}`` or ``{"ok": false, "error": {...}, ...}``. Anything
the program prints goes to stderr (file descriptor 1 is redirected before it runs).
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import json
import logging
import os
import runpy
import sys
import threading
import traceback
import uuid
from pathlib import Path
from typing import Any

ACCOUNT_ID = "123456789012"
SIGNATURE_KEY = (
    "4dabf18193072939515e22adb298388d"  # the engine's secret envelope (no costline import here)
)
SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"
DEFAULT_REGION = "us-east-1"
STACK_TYPE = "pulumi:pulumi:Stack"
AUTONAMED = frozenset({"name", "bucket"})
"""Output keys :meth:`ReferenceMocks._autoname` fills: physical names pulumi-aws auto-names."""
PROVIDER_PREFIX = "pulumi:providers:"


# --- output normalisation ---------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """A protobuf Struct as the engine's JSON shows it: whole numbers as integers (Structs carry
    every number as a double: 512.0 → 512) and object keys sorted (Go's JSON order), so that
    runs are reproducible and match ``pulumi preview --json``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _short_hash(*parts: str, length: int = 7) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:length]


# --- mocks: realistic outputs and invoke results --------------------------------------------------
class ReferenceMocks:
    """Outputs a real ``pulumi preview``/``up`` would give, deterministic per URN-ish key.

    Every resource echoes its inputs and gets an ``id``, an ``arn`` and, for the types below,
    the outputs programs commonly read (``invokeArn``, ``executionArn``, ``rootResourceId``,
    ``invokeUrl``, ``bucket``...). Physical names are auto-named like Pulumi does
    (``<name>-<7 chars>``). ``tagsAll`` is the resource's provider's default tags overlaid by
    the resource's own, as the AWS provider computes it: an explicit ``aws.Provider``'s
    ``default_tags`` for the resources created with it, the stack config's ``aws:defaultTags``
    only for those on the default provider (pulumi-aws configures each provider from its own
    inputs; stack config is the default provider's inputs). Invokes of common data sources
    answer with the mock account; other invokes return no values. Stack transforms are not run
    (``MockMonitor`` does not run them either).
    """

    def __init__(
        self,
        project: str,
        stack: str,
        config: dict[str, Any],
        *,
        first_preview: bool = False,
        taggable: frozenset[str] = frozenset(),
    ) -> None:
        self.project, self.stack = project, stack
        # first_preview: the stack does not exist yet, so every output the provider computes
        # (ids, ARNs, auto-names) is unknown to the program, as on a first `pulumi preview`;
        # the outputs that echo inputs stay known.
        self.first_preview = first_preview
        self.taggable = taggable
        self.region = str(
            config.get("aws:region") or os.environ.get("AWS_REGION") or DEFAULT_REGION
        )
        self.partition = "aws"
        self.default_tags = _default_tags(config.get("aws:defaultTags"))
        # provider id -> its default tags, for every explicit aws.Provider the program creates
        self.provider_default_tags: dict[str, dict[str, Any]] = {}

    # pulumi.runtime.Mocks interface ------------------------------------------------------
    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs or {})
        typ, name = args.typ, args.name
        if typ.startswith(PROVIDER_PREFIX):
            provider_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.stack}/{typ}/{name}"))
            if typ == PROVIDER_PREFIX + "aws":
                self.provider_default_tags[provider_id] = _default_tags(inputs.get("defaultTags"))
            return provider_id, inputs
        resource_id, extra = self.computed(typ, name, inputs)
        if self.first_preview:
            # the id and every computed output: unknown until the update; an auto-name is known
            # (pulumi-aws picks it in Check, before the preview)
            return "", {**inputs, **self.autonames(extra, inputs)}
        state = {**inputs, **extra}
        state.setdefault("id", resource_id)
        default_tags = self._provider_tags(args.provider)
        if (
            default_tags
            and typ.startswith("aws:")
            and (isinstance(inputs.get("tags"), dict) or typ in self.taggable)
        ):
            # The AWS provider's tagsAll: provider default tags overlaid by the resource's own.
            # (Readers add a tagsAll output to the properties, so default cost:* tags count.)
            state["tagsAll"] = {**default_tags, **(inputs.get("tags") or {})}
        return resource_id, state

    @staticmethod
    def autonames(extra: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
        """The physical names :meth:`_autoname` gave a resource (``name``, an S3 ``bucket``)
        that its inputs did not set: pulumi-aws fills them in Check, so they are inputs."""
        return {k: v for k, v in extra.items() if k in AUTONAMED and k not in inputs}

    def computed(self, typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The id and the outputs the provider computes for a resource (known values)."""
        builder = getattr(self, "_" + _method_name(typ), None)
        return builder(name, inputs) if builder else self._generic(typ, name, inputs)

    def _provider_tags(self, provider: str | None) -> dict[str, Any]:
        """The default tags of the provider a resource names (``<urn>::<id>``), or of the
        default provider (the stack config's) when it names none."""
        if not provider:
            return self.default_tags
        urn, _, provider_id = provider.rpartition("::")
        parts = urn.split("::")
        if len(parts) < 3 or parts[2].rsplit("$", 1)[-1] != PROVIDER_PREFIX + "aws":
            return {}  # another package's provider: no AWS default tags
        return self.provider_default_tags.get(provider_id, {})

    def register_transform(self, transform: Any) -> None:
        pass

    def register_invoke_transform(self, transform: Any) -> None:
        pass

    def call(self, args: Any) -> tuple[dict[str, Any], list]:
        handler = {
            "aws:index/getCallerIdentity:getCallerIdentity": self._caller_identity,
            "aws:index/getRegion:getRegion": self._region,
            "aws:index/getPartition:getPartition": self._partition,
            "aws:index/getAvailabilityZones:getAvailabilityZones": self._availability_zones,
            "aws:iam/getPolicyDocument:getPolicyDocument": self._policy_document,
            "aws:bedrock/getInferenceProfile:getInferenceProfile": self._inference_profile,
        }.get(args.token)
        return (handler(dict(args.args or {})) if handler else {}), []

    # helpers -----------------------------------------------------------------------------------
    def _autoname(self, name: str, inputs: dict[str, Any], key: str = "name") -> str:
        given = inputs.get(key)
        return (
            given
            if isinstance(given, str) and given
            else f"{name}-{_short_hash(self.stack, key, name)}"
        )

    def _arn(
        self, service: str, resource: str, *, region: bool = True, account: bool = True
    ) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{ACCOUNT_ID if account else ''}:{resource}"
        )

    def _generic(self, typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        package, module, kind = _split_token(typ)
        resource_id = f"{name}-{_short_hash(self.stack, typ, name, length=8)}"
        if package != "aws":
            return resource_id, {}
        service = module.split("/")[0].lower()
        return resource_id, {"arn": self._arn(service, f"{kind.lower()}/{resource_id}")}

    # per type (method name = token with non-alphanumerics as _) ---------------------------------
    def _aws_iam_role_Role(self, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        role_name = self._autoname(name, inputs)
        return role_name, {
            "name": role_name,
            "arn": self._arn("iam", f"role/{role_name}", region=False),
            "uniqueId": "AROA" + _short_hash(name, length=16).upper(),
        }

    def _aws_iam_policy_Policy(
        self, name: str, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        policy_name = self._autoname(name, inputs)
        arn = self._arn("iam", f"policy/{policy_name}", region=False)
        return arn, {
            "name": policy_name,
            "arn": arn,
            "policyId": "ANPA" + _short_hash(name, length=16).upper(),
        }

    def _aws_iam_rolePolicy_RolePolicy(
        self, name: str, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        policy_name = self._autoname(name, inputs)
        return f"{inputs.get('role', 'role')}:{policy_name}", {"name": policy_name}

    def _aws_lambda_function_Function(
        self, name: str, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        function_name = self._autoname(name, inputs)
        arn = self._arn("lambda", f"function:{function_name}")
        invoke_path = (
            f"arn:{self.partition}:apigateway:{self.region}:lambda:path/2015-03-31/functions"
        )
        return function_name, {
            "name": function_name,
            "arn": arn,
            "qualifiedArn": f"{arn}:$LATEST",
            "version": "$LATEST",
            "invokeArn": f"{invoke_path}/{arn}/invocations",
            "qualifiedInvokeArn": f"{invoke_path}/{arn}:$LATEST/invocations",
        }

    def _aws_lambda_permission_Permission(
        self, name: str, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        statement = inputs.get("statementId") or f"{name}-{_short_hash(self.stack, name)}"
        return statement, {"statementId": statement}

    def _aws_apigateway_restApi_RestApi(
        self, name: str, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        api_id = _short_hash(self.stack, "restapi", name, length=10)
        return api_id, {
            "name": self._autoname(name, inputs),
            "rootResourceId": _short_hash(api_id, "root", length=10),
            "arn": self._arn("apigateway", f"/restapis/{api_id}", account=False),
            "executionArn": self._arn("execute-api", api_id),
            "createdDate": "2025-01-01T00:00:00Z",
        }

    def _aws_apigateway_resource_Resource(
        self, name: str, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        return _short_hash(self.stack, "resource", name, length=6), {
            "path": "/" + str(inputs.get("pathPart", ""))
        }

    def _aws_apigateway_deployment_Deployment(
        self, name: str, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        return _short_hash(self.stack, "deployment", name, length=6), {
            "createdDate": "2025-01-01T00:00:00Z"
        }

    def _aws_apigateway_stage_Stage(
        self, name: str, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        api, stage = inputs.get("restApi", "api"), inputs.get("stageName", name)
        return f"ags-{api}-{stage}", {
            "invokeUrl": f"https://{api}.execute-api.{self.region}.amazonaws.com/{stage}",
            "executionArn": self._arn("execute-api", f"{api}/{stage}"),
            "arn": self._arn("apigateway", f"/restapis/{api}/stages/{stage}", account=False),
        }

    def _aws_s3_bucket_Bucket(
        self, name: str, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        bucket = self._autoname(name, inputs, "bucket")
        return bucket, {
            "bucket": bucket,
            "arn": f"arn:{self.partition}:s3:::{bucket}",
            "region": self.region,
            "bucketDomainName": f"{bucket}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{bucket}.s3.{self.region}.amazonaws.com",
            "hostedZoneId": "Z3AQBSTGFYJSTF",
        }

    _aws_s3_bucketV2_BucketV2 = _aws_s3_bucket_Bucket

    def _aws_bedrock_inferenceProfile_InferenceProfile(
        self, name: str, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        profile_id = _short_hash(self.stack, "profile", name, length=12)
        return profile_id, {
            "name": self._autoname(name, inputs),
            "arn": self._arn("bedrock", f"application-inference-profile/{profile_id}"),
            "status": "ACTIVE",
            "type": "APPLICATION",
        }

    # invokes -----------------------------------------------------------------------------------
    def _caller_identity(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "accountId": ACCOUNT_ID,
            "arn": f"arn:{self.partition}:iam::{ACCOUNT_ID}:user/costline-mock",
            "userId": "AIDACOSTLINEMOCK",
            "id": ACCOUNT_ID,
        }

    def _region(self, args: dict[str, Any]) -> dict[str, Any]:
        region = args.get("region") or args.get("name") or self.region
        return {
            "region": region,
            "name": region,
            "id": region,
            "endpoint": f"ec2.{region}.amazonaws.com",
            "description": region,
        }

    def _partition(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "dnsSuffix": "amazonaws.com",
            "reverseDnsPrefix": "com.amazonaws",
            "id": self.partition,
        }

    def _availability_zones(self, args: dict[str, Any]) -> dict[str, Any]:
        names = [f"{self.region}{letter}" for letter in "abc"]
        return {
            "names": names,
            "zoneIds": [f"use1-az{i}" for i in (1, 2, 4)],
            "groupNames": [self.region],
            "id": self.region,
        }

    def _policy_document(self, args: dict[str, Any]) -> dict[str, Any]:
        statements = []
        for statement in args.get("statements") or []:
            out: dict[str, Any] = {"Effect": statement.get("effect", "Allow")}
            for key, field in (
                ("sid", "Sid"),
                ("actions", "Action"),
                ("notActions", "NotAction"),
                ("resources", "Resource"),
                ("notResources", "NotResource"),
            ):
                if statement.get(key):
                    out[field] = statement[key]
            for key, field in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
                if statement.get(key):
                    out[field] = {p.get("type"): p.get("identifiers") for p in statement[key]}
            statements.append(out)
        document = {"Version": "2012-10-17", "Statement": statements}
        text = json.dumps(document, indent=2)
        return {
            "json": text,
            "minifiedJson": json.dumps(document, separators=(",", ":")),
            "id": _short_hash(text, length=10),
        }

    def _inference_profile(self, args: dict[str, Any]) -> dict[str, Any]:
        profile_id = str(args.get("inferenceProfileId", ""))
        model = profile_id.split(".", 1)[1] if "." in profile_id else profile_id
        return {
            "inferenceProfileId": profile_id,
            "inferenceProfileName": profile_id,
            "inferenceProfileArn": self._arn("bedrock", f"inference-profile/{profile_id}"),
            "status": "ACTIVE",
            "type": "SYSTEM_DEFINED",
            "id": profile_id,
            "models": [
                {
                    "modelArn": (
                        f"arn:{self.partition}:bedrock:{self.region}::foundation-model/{model}"
                    )
                }
            ],
        }


def _split_token(token: str) -> tuple[str, str, str]:
    """``aws:lambda/function:Function`` → (``aws``, ``lambda/function``, ``Function``)."""
    parts = [*token.split(":", 2), "", ""]
    return parts[0], parts[1], parts[2]


def _method_name(token: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in token)


# --- the capturing monitor ------------------------------------------------------------------------
def make_monitor_class():
    from google.protobuf import json_format
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.settings import get_project, get_stack

    class CapturingMonitor(MockMonitor):
        """A ``MockMonitor`` that also keeps what each ``RegisterResource`` request carried."""

        def __init__(self, mocks: Any, config: dict[str, Any], secret_keys: list[str]) -> None:
            super().__init__(mocks)
            self.reference: ReferenceMocks = mocks
            self.config = config
            self.secret_keys = set(secret_keys)
            self.lock = threading.Lock()
            self.registered: list[dict[str, Any]] = []
            self.stack_outputs: dict[str, Any] = {}
            self.default_providers: dict[str, dict[str, Any]] = {}

        def make_urn(self, parent: str, type_: str, name: str) -> str:
            # The engine's rule (pkg/resource/deploy: generateURN): the parent's qualified type
            # prefixes the child's, except when the parent is the root stack.
            qualified = type_
            if parent:
                parent_type = parent.split("::")[2]
                if parent_type != STACK_TYPE:
                    qualified = f"{parent_type}${type_}"
            return "urn:pulumi:" + "::".join([get_stack(), get_project(), qualified, name])

        def RegisterResource(self, request: Any) -> Any:
            response = super().RegisterResource(request)
            record: dict[str, Any] = {
                "urn": response.urn,
                "custom": bool(request.custom),
                "type": request.type,
                "inputs": _plain(json_format.MessageToDict(request.object)),
                "parent": request.parent or None,
                # sorted: the SDK gathers them from sets, so their order varies between runs
                "dependencies": sorted(set(request.dependencies)),
                "propertyDependencies": {
                    key: sorted(set(request.propertyDependencies[key].urns))
                    for key in sorted(request.propertyDependencies)
                },
            }
            if request.type != STACK_TYPE:
                record["id"] = response.id
                record["outputs"] = _plain(json_format.MessageToDict(response.object))
                if self.reference.first_preview and not request.type.startswith(PROVIDER_PREFIX):
                    # what the provider will compute: unknown in this preview's outputs
                    inputs = record["inputs"]
                    _, extra = self.reference.computed(request.type, request.name, dict(inputs))
                    record["inputs"] = inputs = {
                        **inputs,
                        **self.reference.autonames(extra, inputs),
                    }
                    record["computed"] = sorted({"id", *extra} - set(inputs))
                    record["outputs"] = {}  # the caller builds them (see readers.mocks)
            provider = request.provider
            if (
                request.custom
                and not provider
                and not request.type.startswith(PROVIDER_PREFIX)
                and request.type.split(":", 1)[0] != "pulumi"
            ):
                provider = self._default_provider(request.type.split(":", 1)[0], request.version)
            if provider:
                record["provider"] = provider
            with self.lock:
                self.registered.append(record)
            return response

        def RegisterResourceOutputs(self, request: Any) -> Any:
            if request.urn.split("::")[2] == STACK_TYPE:
                with self.lock:
                    self.stack_outputs = _plain(json_format.MessageToDict(request.outputs))
            return super().RegisterResourceOutputs(request)

        def _default_provider(self, package: str, version: str) -> str:
            """The engine's default provider for ``package``
            (pkg/resource/deploy/default_providers.go)."""
            numbers = version.split("+")[0].replace("-", ".").split(".") if version else []
            name = "default" + "".join(f"_{part}" for part in numbers)
            urn = f"urn:pulumi:{get_stack()}::{get_project()}::{PROVIDER_PREFIX}{package}::{name}"
            with self.lock:
                if urn not in self.default_providers:
                    inputs: dict[str, Any] = {}
                    for key, value in self.config.items():
                        namespace, _, field = key.partition(":")
                        if namespace == package and field:
                            inputs[field] = _config_value(value)
                            if key in self.secret_keys:
                                inputs[field] = {
                                    SIGNATURE_KEY: SECRET_SIGNATURE,
                                    "value": inputs[field],
                                }
                    if version:
                        inputs["version"] = version
                    self.default_providers[urn] = {
                        "urn": urn,
                        "custom": True,
                        "type": PROVIDER_PREFIX + package,
                        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, urn)),
                        "inputs": inputs,
                        "outputs": dict(inputs),
                        "parent": None,
                        "dependencies": [],
                        "propertyDependencies": {},
                    }
                return f"{urn}::{self.default_providers[urn]['id']}"

    return CapturingMonitor


def _default_tags(raw: Any) -> dict[str, Any]:
    """The ``tags`` of a provider's ``defaultTags``: stack config and an explicit provider's
    input both carry it JSON-encoded (``{"tags": {...}}``); a mapping is accepted too."""
    value = _config_value(raw) if isinstance(raw, str) else raw
    tags = value.get("tags") if isinstance(value, dict) else None
    return dict(tags) if isinstance(tags, dict) else {}


def _config_value(raw: Any) -> Any:
    """Structured (object/array) config arrives JSON-encoded; scalars stay strings."""
    if isinstance(raw, str) and raw[:1] in "[{":
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def ordered(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Dependencies before dependents (parent, provider, dependencies), like the engine's order;
    ties broken stack first, then providers, then by URN, so runs are reproducible."""
    by_urn = {r["urn"]: r for r in resources}
    before: dict[str, set[str]] = {urn: set() for urn in by_urn}
    for resource in resources:
        needs = set(resource.get("dependencies", []))
        for urns in resource.get("propertyDependencies", {}).values():
            needs.update(urns)
        if resource.get("parent"):
            needs.add(resource["parent"])
        if resource.get("provider"):
            needs.add(resource["provider"].rsplit("::", 1)[0])
        before[resource["urn"]] = {u for u in needs if u in by_urn and u != resource["urn"]}

    def rank(urn: str) -> tuple[int, str]:
        typ = by_urn[urn]["type"]
        return (0 if typ == STACK_TYPE else 1 if typ.startswith(PROVIDER_PREFIX) else 2, urn)

    waiting = {urn: len(deps) for urn, deps in before.items()}
    dependents: dict[str, list[str]] = {urn: [] for urn in by_urn}
    for urn, deps in before.items():
        for dep in deps:
            dependents[dep].append(urn)
    ready = [rank(urn) for urn, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    result: list[dict[str, Any]] = []
    while ready:
        _, urn = heapq.heappop(ready)
        result.append(by_urn[urn])
        for dependent in dependents[urn]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, rank(dependent))
    if len(result) < len(by_urn):  # a cycle cannot come from the SDK, but never drop resources
        seen = {r["urn"] for r in result}
        result.extend(
            sorted((r for r in resources if r["urn"] not in seen), key=lambda r: rank(r["urn"]))
        )
    return result


# --- errors ---------------------------------------------------------------------------------------
def describe_error(exc: BaseException, program_dir: Path) -> dict[str, Any]:
    """Type, message and the innermost program-owned frame of an exception."""
    if isinstance(exc, SystemExit):
        return {"type": "SystemExit", "message": f"the program called sys.exit({exc.code!r})"}
    frames = traceback.extract_tb(exc.__traceback__)
    location = None
    for frame in reversed(frames):
        if _inside(frame.filename, program_dir):
            location = {
                "file": str(Path(frame.filename).resolve().relative_to(program_dir)),
                "line": frame.lineno,
            }
            break
    message = str(exc).strip()
    # RunError / ConfigMissingError are the SDK's "user error" types: their message is the point.
    return {"type": type(exc).__name__, "message": message, **(location or {})}


def program_traceback(exc: BaseException, program_dir: Path) -> str:
    """The traceback through the program's own files (the SDK's asyncio frames say nothing to
    its author); the whole traceback when no frame is the program's."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if _inside(f.filename, program_dir)]
    if not own:
        return "".join(traceback.format_exception(exc))
    lines = [
        "Traceback (most recent call last, program frames only):\n",
        *traceback.format_list(own),
    ]
    return "".join(lines + traceback.format_exception_only(exc))


def _inside(filename: str, directory: Path) -> bool:
    path = Path(filename)
    if not path.is_absolute() or not path.is_file():  # "<frozen runpy>", "<string>"
        return False
    try:
        path.resolve().relative_to(directory)
    except ValueError:
        return False
    return True


# --- main -----------------------------------------------------------------------------------------
def _without_source_positions() -> None:
    """Register resources without the SDK's source positions (the program's file and line for
    each resource, which the engine shows in diagnostics): costline reads none of them, and the
    SDK finds them by walking and formatting the whole Python stack for every resource, about a
    tenth of a program's run under mocks. The requests carry an empty stack trace, as they do
    when the SDK finds no user frame. An SDK without this step is left as it is."""
    try:
        from pulumi.runtime import resource as sdk_resource
        from pulumi.runtime.proto import source_pb2
    except ImportError:
        return
    if callable(getattr(sdk_resource, "_get_stack_trace", None)):
        sdk_resource._get_stack_trace = source_pb2.StackTrace


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("program", help="the program: a directory with __main__.py, or a .py file")
    parser.add_argument("--project", required=True)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--organization", default="organization")
    parser.add_argument("--root-directory", default=None)
    parser.add_argument("--first-preview", action="store_true")
    parser.add_argument(
        "--taggable",
        default="[]",
        help="JSON list of the AWS types that get default tags without tags of their own",
    )
    args = parser.parse_args(argv)

    # One JSON document on the real stdout; everything else (the program's prints, C-level
    # writes, SDK logs) goes to stderr.
    result_stream = os.fdopen(os.dup(1), "w", encoding="utf-8")
    sys.stdout.flush()
    os.dup2(2, 1)
    diagnostics: list[dict[str, str]] = []

    def emit(payload: dict[str, Any]) -> None:
        payload["diagnostics"] = diagnostics
        json.dump(payload, result_stream)
        result_stream.write("\n")
        result_stream.flush()

    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [
        p for p in sys.path if p and Path(p).resolve() != Path(here)
    ]  # no shadowing by our siblings

    program = Path(args.program).resolve()
    program_dir = program if program.is_dir() else program.parent
    try:
        import pulumi
        import pulumi.runtime
        from google.protobuf import empty_pb2
        from pulumi.runtime.mocks import MockEngine, MockSettings
        from pulumi.runtime.stack import run_in_stack
        from pulumi.runtime.sync_await import _sync_await
    except ImportError as exc:
        emit(
            {
                "ok": False,
                "error": {
                    "type": "ImportError",
                    "setup": True,
                    "message": f"the pulumi SDK is not importable by {sys.executable} ({exc}); "
                    "install the program's requirements there, or run it with "
                    "another interpreter",
                },
            }
        )
        return 2

    _without_source_positions()
    config = pulumi.runtime.get_config_env()
    secret_keys = pulumi.runtime.get_config_secret_keys_env()
    pulumi.runtime.set_all_config(config, secret_keys)

    class _Diagnostics(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                diagnostics.append(
                    {"severity": record.levelname.lower(), "message": record.getMessage()}
                )
            print(f"[{record.levelname.lower()}] {record.getMessage()}", file=sys.stderr)

    logger = logging.getLogger("costline.program")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(_Diagnostics())
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # as the language host does

    mocks = ReferenceMocks(
        args.project,
        args.stack,
        config,
        first_preview=args.first_preview,
        taggable=frozenset(json.loads(args.taggable)),
    )
    monitor = make_monitor_class()(mocks, config, secret_keys)
    # pulumi.runtime.set_mocks, minus its root Stack (run_in_stack creates the stack, as the
    # language host does, so exports are registered and pulumi.run() works).
    pulumi.runtime.configure(
        MockSettings(
            monitor=monitor,
            monitor_features=set(monitor.GetDeploymentInfo(empty_pb2.Empty()).supportedFeatures),
            engine=MockEngine(logger),
            project=args.project,
            stack=args.stack,
            dry_run=True,
            organization=args.organization,
            root_directory=args.root_directory,
            callbacks=None,
        )
    )

    os.chdir(program_dir)
    sys.argv = [str(program)]

    def run_program() -> None:
        runpy.run_path(str(program), run_name="__main__")

    try:
        _sync_await(run_in_stack(run_program))
    except BaseException as exc:
        print(program_traceback(exc, program_dir), file=sys.stderr)
        emit({"ok": False, "error": describe_error(exc, program_dir)})
        return 1

    resources = list(monitor.registered) + list(monitor.default_providers.values())
    for resource in resources:
        if resource["type"] == STACK_TYPE:
            resource["outputs"] = monitor.stack_outputs
    emit({"ok": True, "resources": ordered(resources), "outputs": monitor.stack_outputs})
    return 0


if __name__ == "__main__":
    sys.exit(main())
