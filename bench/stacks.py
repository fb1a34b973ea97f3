"""The stacks the benchmarks measure, as costline resources and as the engine sends them.

* :func:`services` — the targets' stack: copies of the reference service
  (:func:`costline.testing.stacks.services_stack`: API, stage, Lambda, inference profile,
  bucket and their plumbing; 1 resource in 3 priced, traffic flowing through the graph).
* :func:`all_priced` — a harsher stack, reported for information: every resource priced
  (3 Lambdas with declared traffic for 1 bucket), no free plumbing, no graph.
"""

from __future__ import annotations

from costline.core.model import Resource
from costline.engine import EngineResource, make_urn, with_default_providers
from costline.engine.preview import engine_resource
from costline.testing.stacks import services_stack

LAMBDA = "aws:lambda/function:Function"
BUCKET = "aws:s3/bucket:Bucket"


def services(n: int) -> list[Resource]:
    return services_stack(n)


def all_priced(n: int) -> list[Resource]:
    resources = []
    for i in range(n):
        if i % 4 == 3:
            resources.append(
                Resource(
                    urn=make_urn(BUCKET, f"b{i}"),
                    type=BUCKET,
                    name=f"b{i}",
                    properties={
                        "tags": {
                            "cost:storage-gb": "40",
                            "cost:monthly-get-requests": "30000",
                            "cost:monthly-put-requests": "100",
                        }
                    },
                )
            )
        else:
            resources.append(
                Resource(
                    urn=make_urn(LAMBDA, f"fn{i}"),
                    type=LAMBDA,
                    name=f"fn{i}",
                    properties={
                        "memorySize": 512,
                        "timeout": 30,
                        "tags": {
                            "cost:daily-requests": str(100 + i),
                            "cost:avg-duration-ms": "250",
                        },
                    },
                )
            )
    return resources


def engine_resources(resources: list[Resource]) -> list[EngineResource]:
    """The resources as the engine sends them (unknowns and secrets encoded, dependencies kept,
    a provider on every custom resource)."""
    return with_default_providers([engine_resource(r) for r in resources])
