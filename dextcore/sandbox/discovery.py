"""Find the fake portals of installed plugins (entry points group ``dextcore``).

Deliberately small, so the core plugin host (``dextcore.plugins``) can take
its place: each entry point is loaded and registered with a pluggy manager
carrying :mod:`dextcore.hookspecs`, then every ``register_sandbox_portals``
implementation is called on its own so one broken plugin never hides the
others — its failure is returned instead.
"""

from __future__ import annotations

import importlib.metadata
from typing import Iterable

import attrs
import pluggy

from dextcore import hookspecs
from dextcore.sandbox.portal import SandboxPortal

__all__ = ["DiscoveryResult", "LoadFailure", "discover_portals"]

GROUP = "dextcore"


@attrs.frozen
class LoadFailure:
    """A plugin whose portals could not be loaded: its entry point name and the error text."""

    plugin: str
    error: str


@attrs.frozen
class DiscoveryResult:
    portals: tuple[type[SandboxPortal], ...]
    failures: tuple[LoadFailure, ...]


def discover_portals(entry_points: Iterable[importlib.metadata.EntryPoint] | None = None) -> DiscoveryResult:
    """Portal classes offered by installed plugins, in entry point name order, plus load failures."""
    eps = entry_points if entry_points is not None else importlib.metadata.entry_points(group=GROUP)
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    failures: list[LoadFailure] = []
    for ep in sorted(eps, key=lambda e: e.name):
        try:
            module = ep.load()
            if manager.is_registered(module):
                continue
            manager.register(module, name=ep.name)
        except Exception as exc:  # a broken plugin must not stop the others
            failures.append(LoadFailure(ep.name, f"{type(exc).__name__}: {exc}"))
    found: list[type[SandboxPortal]] = []
    for impl in manager.hook.register_sandbox_portals.get_hookimpls():
        try:
            offered = list(impl.function() or ())
            for cls in offered:
                if not (isinstance(cls, type) and issubclass(cls, SandboxPortal)):
                    raise TypeError(f"{cls!r} is not a SandboxPortal subclass")
        except Exception as exc:
            failures.append(LoadFailure(impl.plugin_name, f"{type(exc).__name__}: {exc}"))
            continue
        found.extend(cls for cls in offered if cls not in found)
    return DiscoveryResult(tuple(found), tuple(failures))
