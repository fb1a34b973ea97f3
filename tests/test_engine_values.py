"""Decoding and encoding the engine's property values (unknown sentinels, secret envelopes)."""

from costline.core.values import (
    SECRET_SIGNATURE,
    SIGNATURE_KEY,
    UNKNOWN,
    UNKNOWN_SENTINELS,
    decode,
    encode,
    is_secret_path,
)


def secret(value):
    return {SIGNATURE_KEY: SECRET_SIGNATURE, "value": value}


def test_every_unknown_sentinel_decodes_to_unknown():
    for sentinel in UNKNOWN_SENTINELS:
        assert decode({"x": sentinel}) == {"x": UNKNOWN}


def test_secrets_are_unwrapped_and_their_paths_recorded():
    paths: set[str] = set()
    decoded = decode(
        {"tags": {"cost:input-tokens": secret("500")}, "env": [secret({"k": "v"})]}, "", paths
    )
    assert decoded == {"tags": {"cost:input-tokens": "500"}, "env": [{"k": "v"}]}
    assert paths == {"tags.cost:input-tokens", "env.0"}


def test_nested_path_under_a_secret_counts_as_secret():
    assert is_secret_path("env.0.k", {"env.0"})
    assert not is_secret_path("env.1", {"env.0"})
    assert not is_secret_path("tags.a", set())


def test_encode_inverts_decode():
    raw = {
        "tags": {"a": secret("5"), "b": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"},
        "l": [1, secret([1, 2])],
    }
    paths: set[str] = set()
    assert encode(decode(raw, "", paths), "", paths) == raw


def test_other_signature_objects_stay_opaque():
    asset = {SIGNATURE_KEY: "c44067f5952c0a294b673a41bacd8c17", "path": "./x"}
    assert decode({"code": asset}) == {"code": asset}
