"""The HTML of the Paperbox example portal: pure functions, one per page.

Links are root-relative (``/account/invoices?page=2``) so a page saved from
the sandbox does not depend on the loopback port it was served from.
``v2`` renders the redesigned markup (``Faults.redesign``): new form and
field names, invoice cards instead of a table.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import escape
from typing import Sequence

from dextcore.sandbox.examples.paperbox.data import PaperboxInvoice

__all__ = ["code_page", "invoices_page", "login_page", "not_found_page"]


def _page(title: str, main: str, *, company: str | None = None) -> str:
    header = '<header class="site"><a class="brand" href="/">Paperbox</a>'
    if company is not None:
        header += f' <span class="account">{escape(company)}</span> <a id="sign-out" href="/logout">Sign out</a>'
    header += "</header>"
    return (f'<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>{escape(title)} – Paperbox'
            f'</title></head>\n<body>\n{header}\n<main>\n{main}</main>\n</body>\n</html>\n')


def _alert(error: str | None) -> str:
    return f'<div class="alert alert-error" role="alert">{escape(error)}</div>\n' if error else ""


def login_page(csrf: str, *, error: str | None = None, notice: str | None = None, username: str = "",
               next_path: str = "", v2: bool = False) -> str:
    """The sign-in form (``form#login-form``: ``username``, ``password``, hidden ``csrf_token``)."""
    hidden_next = f'<input type="hidden" name="next" value="{escape(next_path)}">\n' if next_path else ""
    if v2:
        form = (f'<form data-form="sign-in" method="post" action="/login">\n'
                f'<input type="hidden" name="_token" value="{escape(csrf)}">\n{hidden_next}'
                f'<input name="email" type="email" placeholder="Work email" value="{escape(username)}">\n'
                f'<input name="passphrase" type="password" placeholder="Password">\n'
                f'<button class="btn-primary">Continue</button>\n</form>\n')
        return _page("Welcome back", f"<h1>Welcome back</h1>\n{_alert(error)}{form}")
    note = f'<p class="notice">{escape(notice)}</p>\n' if notice else ""
    form = (f'<form id="login-form" method="post" action="/login">\n'
            f'<input type="hidden" name="csrf_token" value="{escape(csrf)}">\n{hidden_next}'
            f'<label for="username">Email address</label> '
            f'<input id="username" name="username" type="email" value="{escape(username)}">\n'
            f'<label for="password">Password</label> <input id="password" name="password" type="password">\n'
            f'<button type="submit">Sign in</button>\n</form>\n')
    return _page("Sign in", f"<h1>Sign in to your account</h1>\n{note}{_alert(error)}{form}")


def code_page(csrf: str, masked_to: str, *, error: str | None = None) -> str:
    """The e-mailed code step (``form#code-form``: ``code``, hidden ``csrf_token``)."""
    form = (f'<form id="code-form" method="post" action="/login/code">\n'
            f'<input type="hidden" name="csrf_token" value="{escape(csrf)}">\n'
            f'<label for="code">Code</label> '
            f'<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code">\n'
            f'<button type="submit">Continue</button>\n</form>\n')
    hint = (f'<p class="hint">We emailed a 6-digit code to {escape(masked_to)}. '
            f'It is valid for 10 minutes.</p>\n')
    return _page("Check your email", f"<h1>Check your email</h1>\n{hint}{_alert(error)}{form}")


def _money(amount: Decimal) -> str:
    return f"£{amount:,.2f}"


def _date(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def invoices_page(company: str, invoices: Sequence[PaperboxInvoice], *, page: int, pages: int,
                  v2: bool = False) -> str:
    """One page of the invoice list, newest first, with "Older"/"Newer" links."""
    if v2:
        cards = "".join(
            f'<article class="invoice-card" data-invoice="{escape(i.number)}"><h3>{escape(i.number)}</h3>'
            f'<p>{_date(i.date)} · {_money(i.total)}</p>'
            f'<a href="/account/invoices/{escape(i.number)}.pdf">PDF</a></article>\n' for i in invoices)
        return _page("Billing", f'<h1>Billing</h1>\n<div class="invoice-list">\n{cards}</div>\n', company=company)
    if not invoices:
        return _page("Invoices", '<h1>Invoices</h1>\n<p class="empty">You have no invoices yet.</p>\n',
                     company=company)
    rows = "".join(
        f'<tr class="invoice"><td class="number">{escape(i.number)}</td>'
        f'<td class="date"><time datetime="{i.date.isoformat()}">{_date(i.date)}</time></td>'
        f'<td class="total">{_money(i.total)}</td><td class="vat">{_money(i.vat)}</td>'
        f'<td><a class="pdf" href="/account/invoices/{escape(i.number)}.pdf">Download PDF</a></td></tr>\n'
        for i in invoices)
    table = ('<table class="invoices">\n<thead><tr><th>Invoice</th><th>Date</th><th>Total</th><th>VAT</th>'
             f'<th></th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n')
    links = [f"<span>Page {page} of {pages}</span>"]
    if page > 1:
        links.append(f'<a rel="prev" href="/account/invoices?page={page - 1}">Newer invoices</a>')
    if page < pages:
        links.append(f'<a rel="next" href="/account/invoices?page={page + 1}">Older invoices</a>')
    pager = f'<nav class="pager">{" ".join(links)}</nav>\n'
    return _page("Invoices", f"<h1>Invoices</h1>\n{table}{pager}", company=company)


def not_found_page(company: str | None) -> str:
    return _page("Not found", "<h1>Page not found</h1>\n<p>We could not find that page.</p>\n", company=company)
