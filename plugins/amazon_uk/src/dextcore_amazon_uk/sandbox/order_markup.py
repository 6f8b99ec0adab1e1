"""HTML of the Amazon sandbox order pages: history, invoice popover, printable summary.

Current markup ("v1") follows the reference: ``div.order-card.js-order-card``
cards whose header columns are found by their label text, the order id in
``.yohtmlc-order-id span[dir=ltr]``, the "Invoice" popover configured by the
JSON of ``span[data-a-popover]``, ``ul.invoice-list`` in the popover,
``ul.a-pagination li.a-last a`` for the next page and ``.num-orders``
("12 orders" followed by "placed in" and the period menu, so the page reads
"12 orders placed in 2024", as on the real site).

The redesign ("v2", ``Faults.redesign``) is a plausible next Amazon layout
built from the ``data-component`` blocks Amazon already uses on order detail
pages: no ``order-card`` class, no ``yohtmlc-*`` hooks, no ``invoice-list``.
It keeps ``.num-orders``, so a plugin sees orders announced and none parsed:
the "silent 0 orders" trap it must turn into a loud failure.
"""

from __future__ import annotations

import json
from html import escape
from typing import Callable, Sequence

from dextcore_amazon_uk.sandbox.data import Order
from dextcore_amazon_uk.sandbox.markup import page
from dextcore_amazon_uk.sandbox.regions import Region

__all__ = ["history_page", "order_summary", "popover"]


def _period_label(region: Region, time_filter: str) -> str:
    if time_filter == "last30":
        return region.text("last30")
    if time_filter == "months-3":
        return region.text("months3")
    return time_filter.removeprefix("year-")


def _header_item(label: str, value: str) -> str:
    return (f'<li class="order-header__header-list-item"><div class="a-row a-size-mini">'
            f'<span class="a-color-secondary a-text-caps">{escape(label)}</span></div><div class="a-row">'
            f'<span class="a-size-base a-color-secondary aok-break-word">{escape(value)}</span></div></li>')


def _items(region: Region, order: Order) -> str:
    return "".join(
        f'<div class="a-fixed-left-grid item-box a-spacing-base"><div class="yohtmlc-item">'
        f'<div class="yohtmlc-product-title"><a class="a-link-normal" href="{region.base_path}/dp/B0{abs(hash_text(item.title)):08d}">'
        f'{escape(item.title)}</a></div><div class="a-row"><span class="a-size-small a-color-secondary">'
        f'{escape(region.text("sold_by"))} {escape(item.seller)}</span></div></div></div>' for item in order.items)


def hash_text(text: str) -> int:
    """A stable small number for fake product ids (``hash()`` is randomised per process)."""
    value = 0
    for ch in text:
        value = (value * 131 + ord(ch)) % 10**8
    return value


def _card_v1(region: Region, order: Order, *, buyer: str, popover_url: str) -> str:
    base = region.base_path
    details = f"{base}/your-orders/order-details?orderID={order.order_id}&amp;ref=ppx_yo2ov_dt_b_fed_order_details"
    if region.variant == "com":
        invoice = (f'<a class="a-link-normal" href="{base}/gp/css/summary/print.html?orderID={order.order_id}'
                   f'&amp;ref=ppx_yo2ov_dt_b_fed_invoice">{escape(region.text("view_invoice"))}</a>')
    else:
        config = json.dumps({"closeButton": "false", "closeButtonLabel": "", "header": "",
                             "name": f"invoice-popover-{order.order_id}", "position": "triggerBottom",
                             "url": popover_url, "width": "250"})
        invoice = (f'<span class="a-declarative" data-action="a-popover" data-a-popover="{escape(config)}">'
                   f'<a href="javascript:void(0)" role="button" class="a-popover-trigger a-declarative">'
                   f'{escape(region.text("invoice"))}<i class="a-icon a-icon-popover"></i></a></span>')
    header = (_header_item(region.text("order_placed"), region.format_date(order.placed))
              + _header_item(region.text("total"), region.format_money(order.total))
              + ("" if order.digital else _header_item(region.text("dispatch_to"), buyer)))
    return (f'<div class="order-card js-order-card"><div class="a-box-group a-spacing-base">'
            f'<div class="a-box a-color-offset-background order-header"><div class="a-box-inner">'
            f'<div class="a-fixed-right-grid"><div class="a-fixed-right-grid-inner" style="padding-right:280px">'
            f'<div class="a-fixed-right-grid-col a-col-left"><ul class="a-unordered-list a-nostyle a-vertical '
            f'order-header__header-list">{header}</ul></div>'
            f'<div class="a-fixed-right-grid-col a-col-right"><div class="a-row a-size-mini yohtmlc-order-id">'
            f'<span class="a-color-secondary a-text-caps">{escape(region.text("order_number"))}</span> '
            f'<span class="a-color-secondary" dir="ltr">{order.order_id}</span></div>'
            f'<div class="a-row"><a class="a-link-normal yohtmlc-order-details-link" href="{details}">'
            f'{escape(region.text("view_order"))}</a><i class="a-icon a-icon-text-separator" role="img"></i>'
            f'{invoice}</div></div></div></div></div></div>'
            f'<div class="a-box delivery-box"><div class="a-box-inner">{_items(region, order)}</div></div>'
            f'</div></div>')


def _card_v2(region: Region, order: Order, *, popover_url: str) -> str:
    base = region.base_path
    return (f'<section class="a-box yo-card" data-component="orderCard"><div data-component="briefOrderInfo">'
            f'<dl class="yo-card__meta"><dt>{escape(region.text("order_placed"))}</dt>'
            f'<dd data-component="orderDate">{escape(region.format_date(order.placed))}</dd>'
            f'<dt>{escape(region.text("total"))}</dt><dd data-component="orderTotal">'
            f'{escape(region.format_money(order.total))}</dd></dl>'
            f'<div data-component="orderId"><bdi>{order.order_id}</bdi></div></div>'
            f'<div data-component="orderActions"><a href="{base}/your-orders/order-details?orderID={order.order_id}">'
            f'{escape(region.text("view_order"))}</a><button type="button" class="yo-card__invoice" '
            f'data-invoice-url="{escape(popover_url)}">{escape(region.text("invoice"))}</button></div>'
            f'<div data-component="shipments">{_items(region, order)}</div></section>')


def _pagination(region: Region, *, url_for_start: Callable[[int], str], start: int, total: int) -> str:
    if total <= 10:
        return ""
    pages = (total + 9) // 10
    current = start // 10
    prev = (f'<li class="a-normal"><a href="{escape(url_for_start(start - 10))}">←{escape(region.text("previous"))}</a></li>'
            if current > 0 else f'<li class="a-disabled">←{escape(region.text("previous"))}</li>')
    numbers = "".join(
        f'<li class="{"a-selected" if i == current else "a-normal"}"><a href="{escape(url_for_start(i * 10))}">{i + 1}</a></li>'
        for i in range(pages))
    nxt = (f'<li class="a-last"><a href="{escape(url_for_start(start + 10))}">{escape(region.text("next"))}'
           f'<span class="a-letter-space"></span>→</a></li>' if current < pages - 1
           else f'<li class="a-disabled a-last">{escape(region.text("next"))}<span class="a-letter-space"></span>→</li>')
    return f'<div class="a-row"><div class="a-text-center pagination-full"><ul class="a-pagination">{prev}{numbers}{nxt}</ul></div></div>'


def history_page(region: Region, *, name: str, orders: Sequence[Order], total: int, start: int, time_filter: str,
                 years: Sequence[int], url_for_start: Callable[[int], str], popover_url: Callable[[Order], str],
                 v2: bool) -> str:
    """One page (10 cards) of ``/your-orders/orders`` for ``time_filter``."""
    base = region.base_path
    count = region.text("orders_count_one") if total == 1 else region.text("orders_count", count=total)
    options = [("last30", region.text("last30")), ("months-3", region.text("months3"))]
    options += [(f"year-{y}", str(y)) for y in years]
    select = "".join(f'<option value="{v}"{" selected" if v == time_filter else ""}>{escape(label)}</option>'
                     for v, label in options)
    if v2:
        cards = "".join(_card_v2(region, o, popover_url=popover_url(o)) for o in orders)
    else:
        cards = "".join(_card_v1(region, o, buyer=name, popover_url=popover_url(o)) for o in orders)
    empty = (f'<div class="a-row a-spacing-top-medium"><p class="a-text-center">'
             f'{escape(region.text("no_orders", period=_period_label(region, time_filter)))}</p></div>') if not total else ""
    body = (f'<div class="a-section a-spacing-medium your-orders-content-container js-yo-container">'
            f'<h1>{escape(region.text("your_orders"))}</h1><div class="a-row a-spacing-base">'
            f'<form method="get" action="{base}/your-orders/orders" class="a-spacing-none js-time-filter-form">'
            f'<label for="time-filter" class="a-form-label time-filter__label"><span class="num-orders">'
            f'{escape(count)}</span> {escape(region.text("placed_in"))}</label> '
            f'<select name="timeFilter" id="time-filter" class="a-native-dropdown">{select}</select></form></div>'
            f'{empty}<div id="ordersContainer" class="your-orders-content">{cards}</div>'
            f'{_pagination(region, url_for_start=url_for_start, start=start, total=total)}</div>')
    return page(region, region.text("your_orders"), body, signed_in_as=name)


def popover(region: Region, *, links: Sequence[tuple[str, str]], v2: bool) -> str:
    """The fragment answered to ``/your-orders/invoice/popover``: ``(href, label)`` links."""
    if v2:
        items = "".join(f'<a class="yo-invoice-popover__link" data-testid="invoice-link" href="{escape(href)}">'
                        f'{escape(label)}</a>' for href, label in links)
        return f'<div class="yo-invoice-popover" data-component="invoiceLinks">{items}</div>'
    items = "".join(f'<li><span class="a-list-item"><a class="a-link-normal" href="{escape(href)}">{escape(label)}'
                    f'</a></span></li>' for href, label in links)
    return f'<div class="a-row"><ul class="a-unordered-list a-vertical invoice-list a-nostyle">{items}</ul></div>'


def order_summary(region: Region, *, order: Order, name: str, title: str, printable: bool) -> str:
    """Printable Order Summary (``print.html``, no site header) and the order details page:
    Amazon's ``data-component`` blocks."""
    items = "".join(
        f'<div class="a-fixed-left-grid" data-component="purchasedItems"><div data-component="itemTitle">'
        f'{escape(i.title)}</div><div data-component="orderedMerchant"><span class="a-size-small">'
        f'{escape(region.text("sold_by"))} {escape(i.seller)}</span></div><div data-component="quantity">'
        f'{i.quantity}</div><div data-component="unitPrice">{escape(region.format_money(i.unit_price))}</div></div>'
        for i in order.items)
    body = (f'<div id="orderDetails" class="a-section dynamic-width"><div data-component="printODTitle">'
            f'<h1>{escape(region.text("order_summary"))}</h1></div><div data-component="briefOrderInfoInvoice">'
            f'<div data-component="orderDateLabel"><span>{escape(region.text("order_placed"))}</span></div>'
            f'<div data-component="orderDate"><span>{escape(region.format_date(order.placed))}</span></div>'
            f'<div data-component="orderIdLabel"><span>{escape(region.text("order_number"))}</span></div>'
            f'<div data-component="orderId"><span>{order.order_id}</span></div></div>'
            f'<div data-component="shippingAddress"><h5>{escape(region.text("dispatch_to"))}</h5>'
            f'<span class="a-list-item">{escape(name)}</span></div><div data-component="shipments">{items}</div>'
            f'<div id="od-subtotals" data-component="chargeSummary"><div class="a-row od-line-item-row">'
            f'<span>{escape(region.text("grand_total"))}</span><span class="a-text-bold">'
            f'{escape(region.format_money(order.total))}</span></div></div></div>')
    return page(region, title, body, signed_in_as=name, bare=printable)
