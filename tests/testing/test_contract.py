"""check_plugin / assert_plugin_contract: precise problems for broken plugins, none for the bundled ones."""

from __future__ import annotations

import types
from typing import Any

import pytest

from dextcore.hookspecs import hookimpl
from dextcore.records import (Connector, ConnectorKind, CredentialField, FieldType, TwoFactorMedium, Variant)
from dextcore.sandbox import SandboxPortal
from dextcore.testing import assert_plugin_contract, check_plugin
from tests.testing import tiny_plugin


def plugin(name: str, **members: Any) -> types.ModuleType:
    """A plugin module built in the test; ``connectors`` (a callable taking the module) feeds register_connectors."""
    module = types.ModuleType(name)
    make = members.pop("connectors", None)
    for key, value in members.items():
        setattr(module, key, value)
    if make is not None:
        module.register_connectors = hookimpl(lambda: make(module))
    return module


def supplier(module: object, name: str = "good", **changes: Any) -> Connector:
    values: dict[str, Any] = dict(
        name=name, label="Good", kind=ConnectorKind.SUPPLIER, implementation=module,
        variants=(Variant("main", "Good (good.example)", "https://www.good.example", default=True),),
        allowed_domains=("good.example",))
    values.update(changes)
    return Connector(**values)


@hookimpl
async def authenticate(session):  # type: ignore[no-untyped-def]
    return None


@hookimpl
async def list_documents(session, since):  # type: ignore[no-untyped-def]
    yield


@hookimpl
async def download(session, document):  # type: ignore[no-untyped-def]
    return None


PORTAL_HOOKS = dict(authenticate=authenticate, list_documents=list_documents, download=download)


class OtherPortal(SandboxPortal):
    name = "other"
    connector = "other"


@pytest.mark.parametrize("module", ["dextcore_amazon_uk", "dextcore_bt_business", "dextcore_spotify",
                                    "dextcore_billcom"])
def test_the_bundled_plugins_keep_the_contract(module):
    assert check_plugin(module) == []
    assert_plugin_contract(module)


def test_the_tiny_test_plugin_keeps_the_contract():
    assert check_plugin(tiny_plugin) == []


def test_a_complete_minimal_plugin_passes():
    assert check_plugin(plugin("good", connectors=lambda m: [supplier(m)], **PORTAL_HOOKS)) == []


def test_a_plugin_without_register_connectors():
    assert check_plugin(plugin("empty", **PORTAL_HOOKS)) == [
        "empty: no register_connectors hook (a function marked @hookimpl returning the plugin's Connector records)"]


def test_every_problem_of_a_broken_supplier_plugin_is_reported():
    @hookimpl
    def athenticate(session):  # type: ignore[no-untyped-def]
        return None

    @hookimpl(specname="handle_2fa")
    def second_factor(session, challenge, code, phone):  # type: ignore[no-untyped-def]
        return None

    def connectors(module: object) -> list[Connector]:
        return [supplier(
            module, name="broken", label=" ",
            variants=(Variant("main", "Broken", "www.broken.example"), Variant("old", "", "https://old.example")),
            allowed_domains=(),
            fields=(CredentialField("password", "Password", FieldType.TEXT), CredentialField("account", "Account")),
            two_factor=(TwoFactorMedium.SMS,))]

    broken = plugin("broken", connectors=connectors, athenticate=athenticate, second_factor=second_factor,
                    authenticate=authenticate, register_sandbox_portals=hookimpl(lambda: [OtherPortal, dict]))
    assert check_plugin(broken) == [
        "broken: athenticate is marked @hookimpl but dextcore has no such hook (a typo?)",
        "broken: hook handle_2fa asks for argument(s) phone that dextcore does not pass "
        "(it passes: session, challenge, code)",
        "connector 'broken': no label (the supplier name users see)",
        "connector 'broken': no default variant (mark one Variant default=True)",
        "connector 'broken': variant 'main' has no absolute http(s) base_url ('www.broken.example')",
        "connector 'broken': variant 'old' has no label",
        "connector 'broken': no allowed_domains (the hosts credentials may be sent to)",
        "connector 'broken': field 'password' (text) holds a secret but is not secret=True",
        "connector 'broken': supplier connector does not implement list_documents, download "
        "(on its implementation broken)",
        "broken: sandbox portal OtherPortal stands in for connector 'other', which this plugin does not offer",
        "broken: register_sandbox_portals returned <class 'dict'>, not a SandboxPortal subclass",
    ]
    with pytest.raises(AssertionError) as raised:
        assert_plugin_contract(broken)
    message = str(raised.value)
    assert message.startswith("broken breaks the dextcore plugin contract:\n- broken: athenticate")
    assert message.count("\n- ") == 11


def test_hooks_are_looked_for_on_the_connector_implementation_only():
    hooks = plugin("good_hooks", authenticate=authenticate, dowload=download)
    owner = plugin("good", connectors=lambda m: [supplier(hooks)], list_documents=list_documents,
                   download=download)
    assert check_plugin(owner) == [
        "good_hooks: dowload is marked @hookimpl but dextcore has no such hook (a typo?)",
        "connector 'good': supplier connector does not implement list_documents, download "
        "(on its implementation good_hooks)",
    ]


def test_a_register_connectors_that_raises_or_returns_junk():
    def secret_not_secret(module: object) -> list[Connector]:
        return [supplier(module, fields=(CredentialField("password", "Password", FieldType.PASSWORD),))]

    assert check_plugin(plugin("raising", connectors=secret_not_secret, **PORTAL_HOOKS)) == [
        "raising: register_connectors raised ValueError: credential field 'password' of type password must be secret"]
    assert check_plugin(plugin("junk", connectors=lambda m: ["good"], **PORTAL_HOOKS)) == [
        "junk: register_connectors returned 'good', not a Connector"]
    assert check_plugin(plugin("none", connectors=lambda m: [], **PORTAL_HOOKS)) == [
        "none: register_connectors returned no connector"]


def test_an_accounting_connector_needs_its_own_hooks():
    @hookimpl
    def connect_accounting(session):  # type: ignore[no-untyped-def]
        return None

    books = plugin("books", connectors=lambda m: [supplier(m, name="books", kind=ConnectorKind.ACCOUNTING,
                                                            two_factor=(TwoFactorMedium.SMS,))],
                   connect_accounting=connect_accounting, **PORTAL_HOOKS)
    assert check_plugin(books) == [
        "connector 'books': accounting connector does not implement sync_lists, publish_bill, accounting_2fa "
        "(on its implementation books)"]


def test_what_dextcore_itself_refuses_is_reported():
    twins = plugin("twins", connectors=lambda m: [supplier(m, name="twin"), supplier(m, name="twin")],
                   **PORTAL_HOOKS)
    assert check_plugin(twins) == [
        "twins: dextcore refused to register it: ValueError: connector name 'twin' is already taken"]
