"""The admin view of a running sandbox: events (logins, codes sent, files served, faults),
the mailbox, demo accounts and fault settings of every portal.

``GET /_admin`` answers JSON; ``GET /_admin.html`` the same as a plain page;
``POST /_admin/faults/{portal}`` with a JSON object changes that portal's
:class:`~dextcore.sandbox.Faults` (e.g. ``{"redesign": true}``).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from dextcore.sandbox.server import SandboxServer

__all__ = ["build_admin_app", "admin_state"]


def admin_state(server: SandboxServer) -> dict[str, Any]:
    """Everything the admin view shows, as JSON-ready data."""
    portals = []
    for portal in server.portals:
        name = portal.name
        portals.append({
            "name": name,
            "connector": portal.connector,
            "root": server.root(name) if server.started else None,
            "faults": portal.faults.to_json(),
            "accounts": [
                {**{k: v for k, v in account.to_json().items() if k != "totp_secret"},
                 "base_url": server.base_url(name, account.variant) if server.started else None}
                for account in portal.demo_accounts()
            ],
        })
    events = sorted((e for p in server.portals for e in list(p.events)), key=lambda e: e.at)
    return {
        "portals": portals,
        "events": [e.to_json() for e in events],
        "mailbox": [{"to": m.to, "channel": m.channel, "text": m.text, "code": m.code, "at": m.at.isoformat()}
                    for m in server.mailbox.messages()],
        "failures": [{"plugin": f.plugin, "error": f.error} for f in server.failures],
    }


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return f"<table border=1 cellpadding=3><tr>{head}</tr>{body}</table>"


def _page(state: dict[str, Any]) -> str:
    parts = ["<!doctype html><html><head><meta charset=utf-8><title>dextcore sandbox</title></head><body>",
             "<h1>dextcore sandbox</h1>"]
    for portal in state["portals"]:
        parts.append(f"<h2>{html.escape(portal['name'])} ({html.escape(portal['connector'])})</h2>")
        parts.append(f"<p>root: {html.escape(str(portal['root']))}; faults: "
                     f"<code>{html.escape(str(portal['faults']))}</code></p>")
        parts.append(_table(portal["accounts"], ["scenario", "variant", "username", "password", "phone",
                                                 "description", "base_url"]))
    parts.append("<h2>Events</h2>")
    parts.append(_table(state["events"], ["at", "portal", "kind", "detail"]))
    parts.append("<h2>Mailbox</h2>")
    parts.append(_table(state["mailbox"], ["at", "to", "channel", "text"]))
    if state["failures"]:
        parts.append("<h2>Plugins that failed to load</h2>")
        parts.append(_table(state["failures"], ["plugin", "error"]))
    parts.append("</body></html>")
    return "".join(parts)


def build_admin_app(server: SandboxServer) -> web.Application:
    """The admin application (served on its own port, never faulted)."""

    async def as_json(request: web.Request) -> web.Response:
        return web.json_response(admin_state(server))

    async def as_html(request: web.Request) -> web.Response:
        return web.Response(text=_page(admin_state(server)), content_type="text/html")

    async def set_faults(request: web.Request) -> web.Response:
        try:
            portal = server.portal(request.match_info["portal"])
        except KeyError:
            raise web.HTTPNotFound(text="no such portal")
        try:
            portal.faults.update(await request.json())
        except (KeyError, ValueError, TypeError) as exc:
            raise web.HTTPBadRequest(text=f"bad faults: {exc}")
        return web.json_response(portal.faults.to_json())

    app = web.Application()
    app.router.add_get("/_admin", as_json)
    app.router.add_get("/_admin.html", as_html)
    app.router.add_post("/_admin/faults/{portal}", set_faults)
    return app
