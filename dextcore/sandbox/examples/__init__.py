"""Example fake portals shipped with the core for the documentation.

They are *not* offered by the core's own entry points (``dextcore demo``
and ``SandboxServer()`` do not start them): the plugin a reader builds in
docs/tutorial.md registers them through ``register_sandbox_portals``, as
any third-party plugin registers its own fake portal.

* :mod:`dextcore.sandbox.examples.paperbox` — Paperbox, a fictional
  office-supplies supplier (the tutorial's portal).
"""
