"""Finding plugins and calling their hooks.

Plugins are distributions with an entry point in the ``dextcore`` group.
Entry points are loaded one by one (not with pluggy's
``load_setuptools_entrypoints``, which lets one broken plugin abort the
whole load): a plugin that fails to import or to register is recorded in
:attr:`PluginHost.failures` with its error and the others still load.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import logging
from typing import Any, Iterable, Iterator

import attrs
import pluggy

from dextcore import hookspecs
from dextcore.records import Connector, ConnectorKind

__all__ = ["ENTRY_POINT_GROUP", "LoadFailure", "PluginHost", "UnknownConnector"]

ENTRY_POINT_GROUP = "dextcore"
log = logging.getLogger(__name__)

EVENT_HOOKS = ("status_changed", "document_collected", "challenge_raised")


@attrs.frozen
class LoadFailure:
    """A plugin that could not be loaded, and why."""

    name: str
    distribution: str | None
    error: str


class UnknownConnector(KeyError):
    def __str__(self) -> str:
        return f"no installed plugin offers the connector {self.args[0]!r} (see `dextcore plugins`)"


class PluginHost:
    """The plugin manager of one dextcore instance.

    ``load_entry_points=False`` gives an empty host that tests and embedding
    apps fill with :meth:`register`.
    """

    def __init__(self, *, load_entry_points: bool = True, plugins: Iterable[object] = ()) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.failures: list[LoadFailure] = []
        self._connectors: dict[str, Connector] = {}
        self._distribution: dict[str, str | None] = {}
        self._callers: dict[tuple[str, str], Any] = {}
        if load_entry_points:
            self._load_entry_points()
        for plugin in plugins:
            self.register(plugin)

    # -- loading -----------------------------------------------------------

    def _load_entry_points(self) -> None:
        for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = ep.dist.name if ep.dist is not None else None
            if self.pm.get_plugin(ep.name) is not None:
                continue
            try:
                plugin = ep.load()
                self.register(plugin, name=ep.name, distribution=dist)
            except Exception as exc:  # a broken plugin must not stop the others
                log.warning("plugin %s (%s) failed to load: %s", ep.name, dist, exc)
                self.failures.append(LoadFailure(ep.name, dist, f"{type(exc).__name__}: {exc}"))

    def register(self, plugin: object, *, name: str | None = None, distribution: str | None = None) -> None:
        """Register a plugin object (module or instance) and its connectors.

        An embedding app registers an object implementing event hooks the
        same way. A plugin whose connectors clash with installed ones is
        unregistered again and the error raised.
        """
        self.pm.register(plugin, name=name)
        try:
            added = self._collect_connectors(plugin)
        except Exception:
            self.pm.unregister(plugin)
            raise
        for connector in added:
            self._connectors[connector.name] = connector
            self._distribution[connector.name] = distribution

    def _collect_connectors(self, plugin: object) -> list[Connector]:
        impl = getattr(plugin, "register_connectors", None)
        if impl is None or not hasattr(impl, hookspecs.PROJECT + "_impl"):
            return []
        added: list[Connector] = []
        for connector in impl() or ():
            if not isinstance(connector, Connector):
                raise TypeError(f"register_connectors returned {connector!r}, not a Connector")
            if connector.name in self._connectors or any(c.name == connector.name for c in added):
                raise ValueError(f"connector name {connector.name!r} is already taken")
            impl_obj = connector.implementation
            if self.pm.get_name(impl_obj) is None and impl_obj is not plugin:  # type: ignore[arg-type]
                self.pm.register(impl_obj)
            added.append(connector)
        return added

    def check_pending(self) -> None:
        """Raise when a plugin implements a hook that does not exist (a typo)."""
        self.pm.check_pending()

    # -- connectors ----------------------------------------------------------

    @property
    def connectors(self) -> dict[str, Connector]:
        return dict(self._connectors)

    def connector(self, name: str) -> Connector:
        try:
            return self._connectors[name]
        except KeyError:
            raise UnknownConnector(name) from None

    def distribution_of(self, connector: str) -> str | None:
        return self._distribution.get(connector)

    def supplier_connectors(self) -> Iterator[Connector]:
        return (c for c in self._connectors.values() if c.kind is ConnectorKind.SUPPLIER)

    # -- calling hooks ---------------------------------------------------------

    def caller(self, connector: Connector | str, hook: str) -> Any:
        """The hook caller for ``hook`` restricted to the plugin owning ``connector``."""
        if isinstance(connector, str):
            connector = self.connector(connector)
        key = (connector.name, hook)
        if key not in self._callers:
            owner = connector.implementation
            others = [p for p in self.pm.get_plugins() if p is not owner]
            self._callers[key] = self.pm.subset_hook_caller(hook, remove_plugins=others)
        return self._callers[key]

    def call(self, connector: Connector | str, hook: str, **kwargs: Any) -> Any:
        """Call a connector hook on its owner only; ``None`` if not implemented."""
        return self.caller(connector, hook)(**kwargs)

    async def acall(self, connector: Connector | str, hook: str, **kwargs: Any) -> Any:
        """:meth:`call`, awaiting the result when the implementation is async."""
        result = self.call(connector, hook, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    def implements(self, connector: Connector | str, hook: str) -> bool:
        return bool(self.caller(connector, hook).get_hookimpls())

    def emit(self, event: str, **kwargs: Any) -> None:
        """Fire an event hook on every plugin; a failing listener is logged, never raised."""
        for impl in reversed(getattr(self.pm.hook, event).get_hookimpls()):
            try:
                impl.function(*[kwargs[a] for a in impl.argnames])
            except Exception:
                log.exception("event hook %s of %s failed", event, impl.plugin_name)

    def first(self, hook: str, **kwargs: Any) -> Any:
        """Call a firstresult hook on every plugin (e.g. ``alert``)."""
        return getattr(self.pm.hook, hook)(**kwargs)
