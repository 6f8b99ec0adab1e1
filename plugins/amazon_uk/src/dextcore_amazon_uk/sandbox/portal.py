"""The Amazon sandbox portal: amazon.co.uk, amazon.de and amazon.com on one port.

Each marketplace is served under a host-like base path
(``http://127.0.0.1:PORT/www.amazon.co.uk``); see
:mod:`~dextcore_amazon_uk.sandbox.signin` and
:mod:`~dextcore_amazon_uk.sandbox.orders` for the flows and the choices made
where the reference (portals.md, Amazon) is silent.
"""

from __future__ import annotations

from typing import Awaitable, Callable

from aiohttp import web

from dextcore.sandbox import DemoAccount

from dextcore_amazon_uk.sandbox.orders import OrderRoutes
from dextcore_amazon_uk.sandbox.regions import REGIONS, region_for_variant
from dextcore_amazon_uk.sandbox.signin import SignInRoutes

__all__ = ["AmazonPortal"]


class AmazonPortal(SignInRoutes, OrderRoutes):
    """Fake Amazon for the ``amazon_uk`` connector.

    Knobs for tests and the demo (plain attributes, change them any time):
    ``faults.redesign`` (the "v2" markup), ``session_lifetime``,
    ``push_polls_to_approve`` and ``push_behaviour``, ``max_otps_per_day``;
    :meth:`expire_sessions` ends every login at once.
    """

    name = "amazon"
    connector = "amazon_uk"

    def build_app(self) -> web.Application:
        app = super().build_app()
        app.middlewares.append(self._session_cookie_middleware)
        self.add_signin_routes(app)
        self.add_order_routes(app)
        return app

    @web.middleware
    async def _session_cookie_middleware(self, request: web.Request,
                                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
                                         ) -> web.StreamResponse:
        """Give every browser a ``session-id`` cookie on its first page, as Amazon does."""
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = exc
            raised = True
        else:
            raised = False
        host = request.match_info.get("host")
        if host and "session-id" not in request.cookies:
            new = self.session_id(request)
            response.set_cookie("session-id", new, path="/" + host, max_age=20 * 365 * 24 * 3600)
        if raised:
            raise response  # type: ignore[misc]
        return response

    def demo_accounts(self) -> list[DemoAccount]:
        return [DemoAccount(connector=self.connector, variant=a.demo_variant or a.variant, username=a.username,
                            password=a.demo_password or a.password, scenario=a.scenario,
                            description=a.description, totp_secret=a.totp_secret, phone=a.phone)
                for a in self.accounts]

    def variant_base_url(self, root: str, variant: str | None) -> str:
        """``root`` + ``/www.amazon.co.uk`` (``de``: ``/www.amazon.de``, ``com``: ``/www.amazon.com``;
        business variants share their region's site)."""
        return root.rstrip("/") + region_for_variant(variant).base_path

    @property
    def regions(self) -> tuple:
        return REGIONS
