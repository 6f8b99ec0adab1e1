"""Order history, invoice popover and documents of the Amazon sandbox.

Choices where the reference is silent:

* Pages that need a login redirect (302) to ``/ap/signin`` with the page as
  ``openid.return_to``; a document URL answered without a live session
  returns the sign-in page itself with status 200 (the reference's trap).
* ``timeFilter`` defaults to ``months-3`` (the site's default "past 3
  months"); ``last30`` and ``months-3`` count back 30 and 91 days.
  ``/gp/your-account/order-history?orderFilter=...`` serves the same pages.
* Each popover visit mints new ``/documents/download/<uuid>/invoice.pdf``
  links; a link works for the login session that received it, as long as
  that session lives (older links of the same session keep working).
* The popover of an order that is not the account's answers 404; so does
  an unknown document id.
* A PDF is ``application/pdf`` with ``Content-Disposition: inline``; its text
  holds the invoice number, order id, seller and seller VAT id.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from dextcore.sandbox import invoice_pdf

from dextcore_amazon_uk.sandbox import markup, order_markup
from dextcore_amazon_uk.sandbox.data import Document, Order
from dextcore_amazon_uk.sandbox.state import HOST_PATTERN, AmazonState, LoginSession

__all__ = ["OrderRoutes"]

PAGE_SIZE = 10


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


class OrderRoutes(AmazonState):
    """Routes of the order pages, the invoice popover, printable summaries and PDFs."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.document_links: dict[str, tuple[str, str, int]] = {}
        """Link id → (login session token, order id, document index)."""

    def add_order_routes(self, app: web.Application) -> None:
        base = "/" + HOST_PATTERN
        app.router.add_get(base, self.home)
        app.router.add_get(base + "/", self.home)
        app.router.add_get(base + "/your-orders/orders", self.history)
        app.router.add_get(base + "/gp/your-account/order-history", self.history)
        app.router.add_get(base + "/your-orders/invoice/popover", self.invoice_popover)
        app.router.add_get(base + "/documents/download/{link_id}/invoice.pdf", self.document)
        app.router.add_get(base + "/gp/css/summary/print.html", self.print_summary)
        app.router.add_get(base + "/your-orders/order-details", self.order_details)

    # -- helpers ------------------------------------------------------------------------

    def _require_session(self, request: web.Request) -> LoginSession:
        session = self.current_session(request)
        if session is None:
            self.redirect_to_signin(request)
        assert session is not None
        return session

    def _order(self, session: LoginSession, order_id: str) -> Order:
        for order in self.orders(session.account):
            if order.order_id == order_id:
                return order
        raise web.HTTPNotFound(text="Order not found")

    def filtered(self, orders: list[Order], time_filter: str) -> list[Order]:
        """The orders a ``timeFilter`` value selects (unknown values select none)."""
        today = self.clock.today()
        if time_filter == "last30":
            return [o for o in orders if o.placed >= today - dt.timedelta(days=30)]
        if time_filter == "months-3":
            return [o for o in orders if o.placed >= today - dt.timedelta(days=91)]
        if time_filter.startswith("year-") and time_filter[5:].isdigit():
            return [o for o in orders if o.placed.year == int(time_filter[5:])]
        return []

    # -- pages ---------------------------------------------------------------------------

    async def home(self, request: web.Request) -> web.Response:
        session = self.current_session(request)
        self.session_id(request)
        return _html(markup.home(self.region_of(request), name=session.profile if session else None))

    async def history(self, request: web.Request) -> web.Response:
        session = self._require_session(request)
        region = session.region
        query = request.query
        time_filter = query.get("timeFilter") or query.get("orderFilter") or "months-3"
        try:
            start = max(0, int(query.get("startIndex", "0")))
        except ValueError:
            start = 0
        selected = self.filtered(self.orders(session.account), time_filter)
        shown = selected[start:start + PAGE_SIZE]
        request_id = secrets.token_hex(10).upper()
        path = request.path

        def url_for_start(index: int) -> str:
            return f"{path}?{urlencode({'timeFilter': time_filter, 'startIndex': index})}"

        def popover_url(order: Order) -> str:
            return (f"{region.base_path}/your-orders/invoice/popover?"
                    f"{urlencode({'orderId': order.order_id, 'relatedRequestId': request_id})}")

        today = self.clock.today()
        years = list(range(today.year, today.year - 3, -1))
        return _html(order_markup.history_page(region, name=session.profile, orders=shown, total=len(selected),
                                               start=start, time_filter=time_filter, years=years,
                                               url_for_start=url_for_start, popover_url=popover_url,
                                               v2=self.faults.redesign))

    def _doc_label(self, session: LoginSession, doc: Document) -> str:
        key = "credit_note_n" if doc.kind == "credit_note" else "invoice_n"
        return session.region.text(key, n=doc.n)

    async def invoice_popover(self, request: web.Request) -> web.Response:
        session = self._require_session(request)
        region = session.region
        if not request.query.get("relatedRequestId"):
            raise web.HTTPBadRequest(text="relatedRequestId missing")
        order = self._order(session, request.query.get("orderId", ""))
        base = region.base_path
        links = [(f"{base}/gp/css/summary/print.html?orderID={order.order_id}&ref=ppx_yo2ov_dt_b_pos",
                  region.text("printable_summary"))]
        for index, doc in enumerate(order.documents):
            link_id = str(uuid.uuid4())
            self.document_links[link_id] = (session.token, order.order_id, index)
            links.append((f"{base}/documents/download/{link_id}/invoice.pdf", self._doc_label(session, doc)))
        if order.missing_invoice_seller:
            links.append((f"{base}/gp/help/contact/contact.html?{urlencode({'orderID': order.order_id, 'subject': 'invoice'})}",
                          region.text("request_invoice")))
        return _html(order_markup.popover(region, links=links, v2=self.faults.redesign))

    async def document(self, request: web.Request) -> web.Response:
        link = self.document_links.get(request.match_info["link_id"])
        session = self.current_session(request)
        if session is None or (link is not None and link[0] != session.token):
            # An expired (or foreign) session: Amazon answers its sign-in page, status 200.
            return self.signin_page_response(request, str(request.url))
        if link is None:
            raise web.HTTPNotFound(text="Document not found")
        order = self._order(session, link[1])
        doc = order.documents[link[2]]
        region = session.region
        body = invoice_pdf(number=doc.number, date=doc.date, seller=doc.seller, buyer=session.account.name,
                           lines=doc.lines, currency=region.currency, title=doc.title,
                           extra=(f"Order number: {order.order_id}", f"Sold by: {doc.seller}",
                                  f"Seller VAT number: {doc.seller_vat}"))
        return web.Response(body=body, content_type="application/pdf",
                            headers={"Content-Disposition": f'inline; filename="{doc.number}.pdf"'})

    async def print_summary(self, request: web.Request) -> web.Response:
        session = self._require_session(request)
        order = self._order(session, request.query.get("orderID", ""))
        return _html(order_markup.order_summary(session.region, order=order, name=session.profile,
                                                title=session.region.text("order_summary"), printable=True))

    async def order_details(self, request: web.Request) -> web.Response:
        session = self._require_session(request)
        order = self._order(session, request.query.get("orderID", ""))
        return _html(order_markup.order_summary(session.region, order=order, name=session.profile,
                                                title="Order Details", printable=False))
