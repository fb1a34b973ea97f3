"""How a Pulumi type token is shown: the short form ``pulumi preview`` displays.

One function for every place that names a resource's type to a reader (reports, the terminal
table, the pack's one-line summaries, usage notes), so the pack's messages and the reports name
a type alike, and as the engine's own display does next to them.
"""

from __future__ import annotations

import functools

__all__ = ["short_type"]


@functools.lru_cache(maxsize=1024)
def short_type(type_token: str) -> str:
    """A type token as ``pulumi preview`` displays it: the module's last part is dropped when it
    is the type's name in camelCase (``aws:lambda/function:Function`` → ``aws:lambda:Function``,
    ``aws:bedrock/inferenceProfile:InferenceProfile`` → ``aws:bedrock:InferenceProfile``); any
    other token (``pulumi:pulumi:Stack``, ``aws:s3/bucketPolicy:Policy``) stays as it is.
    Returns plain text: a template escapes it."""
    parts = type_token.split(":")
    if len(parts) != 3 or not parts[2]:
        return type_token
    package, module, name = parts
    head, slash, last = module.rpartition("/")
    if not slash or last != name[0].lower() + name[1:]:
        return type_token
    return f"{package}:{head}:{name}"
