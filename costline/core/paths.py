"""Where costline's bundled data lives: price tables, report templates, the reference program.

An installed wheel carries them under ``costline/_data/<name>`` (see the ``force-include``
table in ``pyproject.toml``); a source checkout or an editable install reads them from the
repository root, beside the ``costline`` package. Nothing here reads the files.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # costline/, not costline/core/


def data_dir(name: str) -> Path:
    """The bundled folder (or file) ``name``, e.g. ``data_dir("pricing")``.

    ``costline/_data/<name>`` when it exists (an installed wheel), else ``<repo>/<name>``.
    The returned path may not exist (a broken install); callers report that themselves.
    """
    installed = _PACKAGE_DIR / "_data" / name
    if installed.exists():
        return installed
    return _PACKAGE_DIR.parent / name
