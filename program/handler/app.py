"""API Gateway (REST, Lambda proxy) → Amazon Bedrock Converse, for the costline reference stack.

POST any path with ``{"prompt": "..."}``; the answer comes back as ``{"completion": ...,
"usage": {"inputTokens": ..., "outputTokens": ...}}``. Each call reads the system prompt
from the artifacts bucket (one S3 GET per call, which is what the bucket's
``cost:monthly-get-requests`` tag counts) and makes one Bedrock call.

Environment: ``BEDROCK_MODEL_ID`` (the application inference profile ARN), ``ARTIFACT_BUCKET``,
``SYSTEM_PROMPT_KEY`` (default ``prompts/system.txt``), ``MAX_OUTPUT_TOKENS`` (default 2048),
and optionally ``API_KEY``: when set, requests must send it in the ``x-api-key`` header.
Uses only boto3, which the python3.12 Lambda runtime provides.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
from typing import Any

_clients: dict[str, Any] = {}


def _client(service: str) -> Any:
    if service not in _clients:
        import boto3  # imported lazily so the module loads (and tests run) without boto3

        _clients[service] = boto3.client(service)
    return _clients[service]


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


def _request_body(event: dict[str, Any]) -> dict[str, Any]:
    raw = event.get("body") or "{}"
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode("utf-8")
    body = json.loads(raw)
    if not isinstance(body, dict):
        raise ValueError("the request body must be a JSON object")
    return body


def _authorized(event: dict[str, Any]) -> bool:
    expected = os.environ.get("API_KEY")
    if not expected:
        return True
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    return hmac.compare_digest(str(headers.get("x-api-key", "")), expected)


def _system_prompt() -> list[dict[str, str]]:
    s3 = _client("s3")
    try:
        obj = s3.get_object(
            Bucket=os.environ["ARTIFACT_BUCKET"],
            Key=os.environ.get("SYSTEM_PROMPT_KEY", "prompts/system.txt"),
        )
    except s3.exceptions.NoSuchKey:
        return []
    text = obj["Body"].read().decode("utf-8").strip()
    return [{"text": text}] if text else []


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if not _authorized(event):
        return _response(401, {"error": "missing or wrong x-api-key header"})
    try:
        body = _request_body(event)
    except (ValueError, UnicodeDecodeError) as exc:
        return _response(400, {"error": f"bad request body: {exc}"})
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return _response(400, {"error": 'send {"prompt": "..."}'})

    reply = _client("bedrock-runtime").converse(
        modelId=os.environ["BEDROCK_MODEL_ID"],
        messages=[{"role": "user", "content": [{"text": prompt}]}],
        system=_system_prompt(),
        inferenceConfig={"maxTokens": int(os.environ.get("MAX_OUTPUT_TOKENS", "2048"))},
    )
    # DeepSeek-R1 answers with a reasoningContent block before the text block; return the text.
    blocks = reply["output"]["message"]["content"]
    completion = "".join(block["text"] for block in blocks if "text" in block)
    usage = reply.get("usage", {})
    return _response(
        200,
        {
            "completion": completion,
            "stopReason": reply.get("stopReason"),
            "usage": {
                "inputTokens": usage.get("inputTokens"),
                "outputTokens": usage.get("outputTokens"),
            },
        },
    )
