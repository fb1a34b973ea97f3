"""Loaded by every Python process bench/mutation starts (it is on their PYTHONPATH).

The policy pack runs in a child process whose working directory is the pack's folder, where
mutmut cannot find its configuration; load it from the repository root instead, so the
mutated code's trampolines work there too.
"""

import os

_root = os.environ.get("COSTLINE_MUTATION_ROOT")
if _root and os.path.abspath(os.getcwd()) != os.path.abspath(_root):
    try:
        from mutmut import configuration
    except ImportError:
        pass
    else:
        _cwd = os.getcwd()
        os.chdir(_root)
        try:
            configuration.config()
        finally:
            os.chdir(_cwd)
