"""Test support for costline: run a policy pack the way the Pulumi engine does.

Importing this package imports ``grpc`` and the Pulumi protobuf stubs; ``costline`` itself
never imports it. The public names are those of :mod:`costline.testing.engine`, whose
``__all__`` is the one list of them.
"""

from costline.testing.engine import *  # noqa: F403 - re-export the harness
from costline.testing.engine import __all__  # noqa: F401
