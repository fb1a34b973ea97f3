"""How the test plugins (``aws_provider.py``, ``language_host.py``) serve the engine.

The engine starts a plugin and reads the port it listens on from the first line of its stdout
(pulumi ``sdk/go/common/resource/plugin/plugin.go``, ``newPlugin``); the plugin serves gRPC on
127.0.0.1 until the engine interrupts it when it is done. Installed beside each plugin script
(``tests/e2e/plugin_env.py``, ``tests/e2e/build-pulumi``), which imports it from its own folder.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent import futures

import grpc

MAX_MESSAGE_BYTES = 400 * 1024 * 1024
"""The engine's own limit (pulumi ``rpcutil.MaxRPCMessageSize``), not gRPC's default 4 MiB."""


def serve(add_servicer: Callable[[grpc.Server], None], *, max_workers: int) -> int:
    """Serve on a free 127.0.0.1 port, print it, and block until interrupted; returns the exit
    code (0)."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers),
        options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)],
    )
    add_servicer(server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:  # the engine interrupts its plugins when it is done
        server.stop(grace=1)
    return 0
