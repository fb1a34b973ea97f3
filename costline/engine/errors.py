"""What can go wrong driving a policy pack: start-up, RPC and policy-config errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import grpc

# --------------------------------------------------------------------------------------------
# Errors


class HarnessError(RuntimeError):
    """Something the engine would have reported as a failed preview/update."""


class HarnessStartupError(HarnessError):
    """The pack did not come up: it exited, printed no (numeric) port in time, or no gRPC."""


class HarnessRpcError(HarnessError):
    """An Analyzer RPC failed. A policy that raises surfaces here with ``code`` UNKNOWN (the
    engine aborts the operation with "failed to run policy: ..."); a hung pack with
    DEADLINE_EXCEEDED."""

    def __init__(self, method: str, code: grpc.StatusCode, details: str, stderr_tail: str):
        self.method = method
        self.code = code
        self.details = details
        self.stderr_tail = stderr_tail
        message = f"{method} failed: {code.name}: {details}"
        if stderr_tail:
            message += f"\n--- policy pack stderr (tail) ---\n{stderr_tail}"
        super().__init__(message)


@dataclass(frozen=True)
class ConfigProblem:
    """One policy-config problem; ``field`` is ``""`` when it concerns the whole entry."""

    policy: str
    field: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.policy}: {self.field}: {self.message}"
            if self.field
            else (f"{self.policy}: {self.message}")
        )


class HarnessConfigError(HarnessError):
    """Policy config the engine would reject before running any policy."""

    def __init__(self, problems: Sequence[ConfigProblem]):
        self.problems = list(problems)
        super().__init__(
            "invalid policy pack config:\n" + "\n".join(f"  {p}" for p in self.problems)
        )
