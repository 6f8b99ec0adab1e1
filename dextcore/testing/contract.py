"""The plugin contract check: is a plugin's registration complete and its hooks real?

Everything here inspects the plugin without network or database: it calls
``register_connectors`` (and ``register_sandbox_portals``), looks at the
records they return and at which functions are marked ``@hookimpl`` on each
connector's implementation — the only object the core dispatches that
connector's hooks to.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

from dextcore import hookspecs
from dextcore.records import Connector, ConnectorKind, FieldType

__all__ = ["assert_plugin_contract", "check_plugin"]

_IMPL_ATTR = hookspecs.PROJECT + "_impl"
_SPEC_ATTR = hookspecs.PROJECT + "_spec"
SUPPLIER_HOOKS = ("authenticate", "list_documents", "download")
ACCOUNTING_HOOKS = ("connect_accounting", "sync_lists", "publish_bill")
SECOND_FACTOR_HOOK = {ConnectorKind.SUPPLIER: "handle_2fa", ConnectorKind.ACCOUNTING: "accounting_2fa"}
_SECRET_TYPES = (FieldType.PASSWORD, FieldType.TOTP_SECRET)
_SECRET_NAMES = ("password", "totp_secret")


def _specs() -> dict[str, Callable[..., Any]]:
    return {name: fn for name, fn in vars(hookspecs).items() if callable(fn) and hasattr(fn, _SPEC_ATTR)}


def _name(plugin: object) -> str:
    return str(getattr(plugin, "__name__", None) or type(plugin).__name__)


def _hookimpls(obj: object) -> dict[str, Callable[..., Any]]:
    """Hook name -> function for every attribute of ``obj`` marked ``@hookimpl``."""
    found: dict[str, Callable[..., Any]] = {}
    for attr in dir(obj):
        if attr.startswith("__"):
            continue
        try:
            value = getattr(obj, attr)
        except Exception:  # a property that fails is not a hook
            continue
        opts = getattr(value, _IMPL_ATTR, None)
        if callable(value) and isinstance(opts, dict):
            found[opts.get("specname") or attr] = value
    return found


def _required_args(fn: Callable[..., Any]) -> list[str]:
    """Arguments pluggy would pass (those without defaults), as it sees them."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _check_hooks(owner: str, obj: object, specs: dict[str, Callable[..., Any]]) -> list[str]:
    """Hooks marked on ``obj`` that dextcore does not have, or that ask for arguments it never passes."""
    problems = []
    for hook, fn in sorted(_hookimpls(obj).items()):
        spec = specs.get(hook)
        if spec is None:
            if not getattr(fn, _IMPL_ATTR, {}).get("optionalhook"):
                problems.append(f"{owner}: {hook} is marked @hookimpl but dextcore has no such hook (a typo?)")
            continue
        unknown = [a for a in _required_args(fn) if a not in _required_args(spec)]
        if unknown:
            problems.append(f"{owner}: hook {hook} asks for argument(s) {', '.join(unknown)} that dextcore "
                            f"does not pass (it passes: {', '.join(_required_args(spec)) or 'nothing'})")
    return problems


def _check_connector(connector: Connector) -> list[str]:
    where = f"connector {connector.name!r}"
    problems = []
    if not connector.label.strip():
        problems.append(f"{where}: no label (the supplier name users see)")
    if not connector.variants:
        problems.append(f"{where}: no variants (declare at least one Variant with the site's base_url)")
    elif not any(v.default for v in connector.variants):
        problems.append(f"{where}: no default variant (mark one Variant default=True)")
    for variant in connector.variants:
        parts = urlsplit(variant.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(f"{where}: variant {variant.name!r} has no absolute http(s) base_url "
                            f"({variant.base_url!r})")
        if not variant.label.strip():
            problems.append(f"{where}: variant {variant.name!r} has no label")
    if not connector.allowed_domains:
        problems.append(f"{where}: no allowed_domains (the hosts credentials may be sent to)")
    for field in connector.fields:
        if not field.secret and (field.type in _SECRET_TYPES or field.name in _SECRET_NAMES):
            problems.append(f"{where}: field {field.name!r} ({field.type.value}) holds a secret but is not "
                            f"secret=True")

    implemented = set(_hookimpls(connector.implementation))
    if connector.kind is ConnectorKind.SUPPLIER:
        required = list(SUPPLIER_HOOKS)
    else:
        required = list(ACCOUNTING_HOOKS)
    if connector.two_factor:
        required.append(SECOND_FACTOR_HOOK[connector.kind])
    missing = [hook for hook in required if hook not in implemented]
    if missing:
        kind = connector.kind.value
        problems.append(f"{where}: {kind} connector does not implement {', '.join(missing)} "
                        f"(on its implementation {_name(connector.implementation)})")
    return problems


def _check_portals(plugin_name: str, portals: Iterable[Any], connectors: list[Connector]) -> list[str]:
    from dextcore.sandbox import SandboxPortal

    problems = []
    names = {c.name for c in connectors}
    for portal in portals:
        if not (isinstance(portal, type) and issubclass(portal, SandboxPortal)):
            problems.append(f"{plugin_name}: register_sandbox_portals returned {portal!r}, not a SandboxPortal "
                            f"subclass")
            continue
        if not portal.name:
            problems.append(f"{plugin_name}: sandbox portal {portal.__name__} has no name")
        if portal.connector not in names:
            problems.append(f"{plugin_name}: sandbox portal {portal.__name__} stands in for connector "
                            f"{portal.connector!r}, which this plugin does not offer")
    return problems


def check_plugin(plugin_module: object | str) -> list[str]:
    """The ways ``plugin_module`` breaks the plugin contract; empty when it is complete.

    ``plugin_module`` is what the plugin's entry point loads (usually its
    package) or its import name. Checked:

    * it implements ``register_connectors``, which returns
      :class:`~dextcore.records.Connector` records without raising;
    * each connector has a label, variants with one marked default (each
      with a label and an absolute base URL) and allowed domains; password
      and TOTP fields are secret;
    * a supplier connector's implementation implements ``authenticate``,
      ``list_documents`` and ``download`` (and ``handle_2fa`` when it
      declares ``two_factor``); an accounting one ``connect_accounting``,
      ``sync_lists`` and ``publish_bill`` (and ``accounting_2fa``);
    * every ``@hookimpl`` names a real hook and asks only for arguments the
      hook passes (what ``pm.check_pending`` and pluggy's registration
      refuse, reported all at once);
    * sandbox portals are :class:`~dextcore.sandbox.SandboxPortal`
      subclasses for one of the plugin's connectors;
    * the plugin registers in a fresh :class:`~dextcore.plugins.PluginHost`.
    """
    plugin = importlib.import_module(plugin_module) if isinstance(plugin_module, str) else plugin_module
    name = _name(plugin)
    specs = _specs()
    problems = _check_hooks(name, plugin, specs)
    own_hooks = _hookimpls(plugin)

    connectors: list[Connector] = []
    if "register_connectors" not in own_hooks:
        problems.append(f"{name}: no register_connectors hook (a function marked @hookimpl returning the "
                        f"plugin's Connector records)")
    else:
        try:
            returned = list(own_hooks["register_connectors"]() or ())
        except Exception as exc:
            problems.append(f"{name}: register_connectors raised {type(exc).__name__}: {exc}")
        else:
            if not returned:
                problems.append(f"{name}: register_connectors returned no connector")
            for item in returned:
                if isinstance(item, Connector):
                    connectors.append(item)
                else:
                    problems.append(f"{name}: register_connectors returned {item!r}, not a Connector")

    checked: list[object] = [plugin]
    for connector in connectors:
        implementation = connector.implementation
        if not any(implementation is seen for seen in checked):
            checked.append(implementation)
            problems += _check_hooks(_name(implementation), implementation, specs)
        problems += _check_connector(connector)

    if "register_sandbox_portals" in own_hooks:
        try:
            portals = list(own_hooks["register_sandbox_portals"]() or ())
        except Exception as exc:
            problems.append(f"{name}: register_sandbox_portals raised {type(exc).__name__}: {exc}")
        else:
            problems += _check_portals(name, portals, connectors)

    if not problems:  # what loading it into dextcore would do (duplicate names, pluggy's own checks)
        from dextcore.plugins import PluginHost

        try:
            PluginHost(load_entry_points=False, plugins=[plugin]).check_pending()
        except Exception as exc:
            problems.append(f"{name}: dextcore refused to register it: {type(exc).__name__}: {exc}")
    return problems


def assert_plugin_contract(plugin_module: object | str) -> None:
    """Raise :class:`AssertionError` listing every problem :func:`check_plugin` finds."""
    problems = check_plugin(plugin_module)
    if problems:
        raise AssertionError(f"{_name(plugin_module) if not isinstance(plugin_module, str) else plugin_module} "
                             f"breaks the dextcore plugin contract:\n" + "\n".join(f"- {p}" for p in problems))
