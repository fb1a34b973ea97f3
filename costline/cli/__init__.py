"""The ``costline`` command line (``costline.cli.main:main``): a thin shell over the core.

Modules: ``launch`` (the entry point: starts a config run's mock server, then the group),
``main`` (the group, ``estimate`` and ``preview``), ``review`` (``diff``, ``check``),
``pricing`` (``pricing import``), ``stack`` (reading and estimating the stack a command works
on), ``options`` (options and option values every command shares), ``output`` (rendering and
writing reports), ``usage`` (``--usage-file``), ``errors`` (one-line exit-2 errors).
Imports point one way: ``main`` → commands → ``stack``/``output``/``options`` → ``errors``.
"""
