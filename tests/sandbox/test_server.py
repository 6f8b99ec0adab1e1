"""SandboxServer: ports, addresses, shared mailbox/clock, admin view and plugin discovery."""

from __future__ import annotations

import importlib.metadata
import io
import json
import textwrap

import pypdf
import pytest

from dextcore.sandbox import Clock, Mailbox, SandboxServer, discover_portals

from .conftest import EchoPortal, request


class OtherPortal(EchoPortal):
    name = "other"


def test_each_portal_gets_its_own_loopback_port(portal):
    with SandboxServer([portal, OtherPortal]) as server:
        roots = {server.root("echo"), server.root("other")}
        assert len(roots) == 2 and all(r.startswith("http://127.0.0.1:") for r in roots)
        assert server.base_url("echo", "co.uk") == server.root("echo") + "/www.echo.co.uk"
        assert isinstance(server.portal("other"), OtherPortal)
        assert request(server.root("other") + "/page")[0] == 200
        with pytest.raises(KeyError):
            server.portal("nope")
    with pytest.raises(RuntimeError):
        server.root("echo")
    server.stop()  # idempotent


def test_port_is_released_on_stop(portal):
    server = SandboxServer([portal]).start()
    root = server.root("echo")
    server.stop()
    with pytest.raises(ConnectionRefusedError):
        request(root + "/page")


def test_duplicate_portal_names_are_refused():
    with pytest.raises(ValueError):
        SandboxServer([EchoPortal(), EchoPortal()])


def test_portals_share_the_server_mailbox_and_clock_unless_given_their_own():
    mailbox, clock, own = Mailbox(), Clock(), Mailbox()
    shared, private = EchoPortal(), OtherPortal(mailbox=own)
    SandboxServer([shared, private], mailbox=mailbox, clock=clock)
    assert shared.mailbox is mailbox and shared.clock is clock
    assert private.mailbox is own and private.clock is clock


def test_admin_view_lists_logins_codes_and_files(server, portal):
    root = server.root("echo")
    assert request(root + "/login", "POST", b"user=alice&phone=%2B447700900001",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})[0] == 200
    status, headers, pdf = request(root + "/invoice.pdf")
    assert status == 200 and "E-1" in pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()

    status, _, body = request(server.admin_url)
    state = json.loads(body)
    kinds = [(e["kind"], e["portal"]) for e in state["events"]]
    assert kinds == [("login", "echo"), ("code_sent", "echo"), ("file_served", "echo")]
    served = state["events"][2]["detail"]
    assert served == {"path": "/invoice.pdf", "content_type": "application/pdf", "size": len(pdf)}
    assert state["events"][1]["detail"] == {"to": "+447700900001", "channel": "sms"}
    code = server.mailbox.last_code("+447700900001")
    assert code and state["mailbox"][0]["code"] == code
    assert state["portals"][0]["root"] == root

    status, headers, page = request(server.admin_url + ".html")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"file_served" in page and b"code_sent" in page and b"+447700900001" in page

    own = json.loads(request(root + "/_admin")[2])
    assert own["portal"] == "echo" and len(own["events"]) == 3


def _plugin(tmp_path, monkeypatch, name: str, source: str) -> importlib.metadata.EntryPoint:
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    return importlib.metadata.EntryPoint(name=name, value=name, group="dextcore")


GOOD = """
    from aiohttp import web
    from dextcore.hookspecs import hookimpl
    from dextcore.sandbox import SandboxPortal

    class GoodPortal(SandboxPortal):
        name = "good"
        connector = "good"
        def build_app(self):
            app = super().build_app()
            async def hello(request):
                return web.Response(text="good portal")
            app.router.add_get("/", hello)
            return app

    @hookimpl
    def register_sandbox_portals():
        return [GoodPortal]
"""

RAISING = """
    from dextcore.hookspecs import hookimpl

    @hookimpl
    def register_sandbox_portals():
        raise RuntimeError("portal module missing")
"""

NOT_A_PORTAL = """
    from dextcore.hookspecs import hookimpl

    @hookimpl
    def register_sandbox_portals():
        return [dict]
"""


def test_discovery_skips_broken_plugins_and_keeps_the_others(tmp_path, monkeypatch):
    eps = [
        importlib.metadata.EntryPoint(name="a_missing", value="no_such_module_for_dextcore", group="dextcore"),
        _plugin(tmp_path, monkeypatch, "sbx_raising", RAISING),
        _plugin(tmp_path, monkeypatch, "sbx_good", GOOD),
        _plugin(tmp_path, monkeypatch, "sbx_not_a_portal", NOT_A_PORTAL),
    ]
    found = discover_portals(eps)
    assert [cls.name for cls in found.portals] == ["good"]
    failed = {f.plugin: f.error for f in found.failures}
    assert set(failed) == {"a_missing", "sbx_raising", "sbx_not_a_portal"}
    assert "ModuleNotFoundError" in failed["a_missing"]
    assert "portal module missing" in failed["sbx_raising"]


def test_server_without_portals_loads_installed_ones(tmp_path, monkeypatch):
    eps = [_plugin(tmp_path, monkeypatch, "sbx_good2", GOOD.replace('"good"', '"good2"')),
           importlib.metadata.EntryPoint(name="broken", value="no_such_module_for_dextcore", group="dextcore")]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group=None: eps if group == "dextcore" else [])
    with SandboxServer() as server:
        assert [p.name for p in server.portals] == ["good2"]
        assert request(server.root("good2") + "/")[2] == b"good portal"
        assert [f.plugin for f in server.failures] == ["broken"]
        assert json.loads(request(server.admin_url)[2])["failures"][0]["plugin"] == "broken"
