"""The many-stack benchmark's input: ``costline.yml`` over 20 distinct Pulumi projects.

:func:`write_projects` copies the reference program (``program/``) into 20 project folders
below a temporary one, each with its own ``Pulumi.yaml`` and stack file, and a config listing
them all. The stacks differ in what costline and the program see: traffic, tokens, Lambda
memory and architecture, bucket size, region, stack name, and size — stack ``i`` declares
``i`` extra S3 buckets on top of the reference service's 17 resources, so the last is the
largest (36 resources). Every program folder holds its own ``usage`` and ``model_source``
modules, as separate projects in a repository would.
"""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STACKS = 20
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1")

EXTRA_BUCKETS = """

# --- bench/multi.py: extra buckets, so that the generated stacks differ in size ----------------
for _i in range(int(pulumi.Config().get("extraBuckets") or 0)):
    aws.s3.Bucket(f"extra-{_i}", tags={**base_tags, "cost:storage-gb": str(10 + _i)})
"""


def write_projects(folder: Path, count: int = STACKS) -> tuple[Path, list[Path]]:
    """``count`` projects below ``folder`` and the ``costline.yml`` listing them; returns the
    config file and one single-stack config per project (the same entry alone)."""
    main = (REPO / "program" / "__main__.py").read_text(encoding="utf-8") + EXTRA_BUCKETS
    entries, alone = [], []
    for i in range(count):
        name, stack = f"svc{i:02d}", ("dev", "staging", "prod")[i % 3]
        project = folder / name
        shutil.copytree(
            REPO / "program", project / "program", ignore=shutil.ignore_patterns("__pycache__")
        )
        (project / "program" / "__main__.py").write_text(main, encoding="utf-8")
        (project / "Pulumi.yaml").write_text(
            f"name: {name}\nruntime: python\nmain: program/\n", encoding="utf-8"
        )
        config = {
            "aws:region": REGIONS[i % len(REGIONS)],
            "developers": 5 + 3 * i,
            "callsPerDeveloperPerDay": 50 + 10 * i,
            "inputTokensPerCall": 300 + 25 * i,
            "outputTokensPerCall": 200 + 40 * i,
            "bedrockModelId": "deepseek.r1-v1:0",
            "lambdaAvgDurationMs": 200 + 50 * i,
            "lambdaMemoryMb": (128, 256, 512, 1024)[i % 4],
            "lambdaArchitecture": ("x86_64", "arm64")[i % 2],
            "artifactStorageGb": 5 + 7 * i,
            "extraBuckets": i,
        }
        lines = ["config:"] + [
            f"  {key if ':' in key else f'{name}:{key}'}: {value}" for key, value in config.items()
        ]
        (project / f"Pulumi.{stack}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        entry = f"  - path: {name}\n    stack: {stack}\n    budget_usd: {100 + 50 * i}\n"
        entries.append(entry)
        single = folder / f"alone-{name}.yml"
        single.write_text(f"version: 1\nprojects:\n{entry}", encoding="utf-8")
        alone.append(single)
    config_file = folder / "costline.yml"
    config_file.write_text("version: 1\nprojects:\n" + "".join(entries), encoding="utf-8")
    return config_file, alone
