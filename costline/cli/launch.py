"""``costline``'s entry point: a run over a config file starts its mock server first.

``costline estimate|diff|check --config FILE`` runs many stacks' programs in children of one
mock server per interpreter (:mod:`costline.readers.mock_server`). Starting one — importing the
Pulumi SDK and the provider modules the programs use — is most of such a run's first second,
and it used to wait until the command line had loaded (a quarter of a second) and read the
config. Started here, before the command line is imported, the two overlap on two CPUs.

Whether the run needs the server is only known once the config is read:
:func:`costline.cli.multi.run_stacks` takes it over or stops it (one stack, or programs with an
interpreter of their own), and any other end of the command stops it when the process exits.
Nothing here reads a file: the server gets the interpreter and environment every mock run gets,
and no program is sent to it before the config has been read and checked.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

CONFIG_COMMANDS = frozenset({"estimate", "diff", "check"})


def runs_over_config(args: Sequence[str]) -> bool:
    """Whether ``costline ARGS`` asks for a run over a config file: the command (the first
    argument that is not an option; costline's own options take no value) is ``estimate``,
    ``diff`` or ``check``, and ``--config`` comes after it. A wrong guess costs a server that is
    stopped unused, never a different result."""
    command = next((i for i, arg in enumerate(args) if not arg.startswith("-")), None)
    if command is None or args[command] not in CONFIG_COMMANDS:
        return False
    rest = args[command + 1 :]
    if "--" in rest:
        rest = rest[: rest.index("--")]
    return any(arg == "--config" or arg.startswith("--config=") for arg in rest)


def main() -> None:
    cpus = os.cpu_count() or 1
    if cpus > 1 and runs_over_config(sys.argv[1:]):  # one CPU: stacks run one by one, no server
        from costline.readers import mock_server

        mock_server.prestart(sys.executable, cpus, mock_server.runner_env())
    from costline.cli.main import main as cli

    cli()
