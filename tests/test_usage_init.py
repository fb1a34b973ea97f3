"""``costline usage init``: the usage keys of each priced resource, as a costline:usage block."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from costline.cli.main import main
from costline.cli.usage_init import usage_template
from costline.core.model import Resource
from costline.usage.stack_config import USAGE_KEY, read_stack_usage

PROGRAM = Path(__file__).parent / "fixtures" / "programs" / "stack-config-usage"
LAMBDA = "aws:lambda/function:Function"


def test_the_template_lists_each_priced_resource_with_its_declared_figures(tmp_path):
    out = tmp_path / "usage.yaml"
    result = CliRunner().invoke(main, ["usage", "init", str(PROGRAM), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    usage = yaml.safe_load(text)["config"][USAGE_KEY]
    # `tagged` declares two figures as tags: they are filled in; `handler` declares none
    assert usage == {
        "handler": None,
        "tagged": {"cost:monthly-requests": "1000000", "cost:avg-duration-ms": "100"},
    }
    handler = text.split("    handler:")[1].split("    tagged:")[0]
    assert '      # cost:monthly-requests: "30000"  # requests/month:' in handler
    assert '      # cost:avg-duration-ms: "' in handler
    # what the template holds is valid stack config: read back, nothing to complain about
    values, findings = read_stack_usage({USAGE_KEY: usage}, "Pulumi.dev.yaml")
    assert findings == []
    assert values == {"tagged": {"cost:monthly-requests": "1000000", "cost:avg-duration-ms": "100"}}


def test_secret_and_unknown_tag_values_are_never_written():
    secret = Resource(
        urn="urn:pulumi:dev::p::aws:lambda/function:Function::fn",
        type=LAMBDA,
        name="fn",
        properties={"tags": {"cost:monthly-requests": "987654321"}},
        secret_paths=frozenset({"tags"}),
    )
    text = usage_template([secret], "dev")
    assert "987654321" not in text
    assert yaml.safe_load(text)["config"][USAGE_KEY] == {"fn": None}


def test_names_that_need_quoting_read_back_exactly():
    odd = Resource(urn="urn:x", type=LAMBDA, name="api: v2 #1", properties={})
    usage = yaml.safe_load(usage_template([odd], "dev"))["config"][USAGE_KEY]
    assert list(usage) == ["api: v2 #1"]


def test_a_stack_with_nothing_usage_driven_says_so():
    role = Resource(urn="urn:r", type="aws:iam/role:Role", name="role", properties={})
    text = usage_template([role], "prod")
    assert yaml.safe_load(text)["config"][USAGE_KEY] == {}
    assert "no resource of this stack has a usage-driven cost" in text
    assert "Pulumi.prod.yaml" in text
