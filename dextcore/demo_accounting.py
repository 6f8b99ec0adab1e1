"""The accounting part of ``dextcore demo``: connect the Bill.com sandbox,
give each collected supplier a rule, and publish the collected invoices."""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["publish_demo"]

# Supplier name fragment -> chart-of-accounts number in the sandbox organisation.
_CATEGORIES = (("amazon", "6010"), ("bt", "6100"), ("telecom", "6100"), ("spotify", "6200"))
_DEFAULT_CATEGORY = "6000"
_TAX_ACCOUNT = "2200"


def _category(supplier: str) -> str:
    words = supplier.lower().replace(".", " ").split()
    for fragment, number in _CATEGORIES:
        if fragment in words or supplier.lower().startswith(fragment):
            return number
    return _DEFAULT_CATEGORY


def publish_demo(app: Any, server: Any, say: Callable[[str], None], *, admin: str) -> list[dict[str, Any]]:
    """Connect the sandbox's Northwind organisation as ``admin``, add a
    supplier rule (category, VAT account, 30 days, auto-publish) for every
    supplier found in the inbox, then publish as after a fetch."""
    portal = server.portal("billcom")
    account = next(a for a in portal.demo_accounts() if a.scenario == "ok")
    service = app.accounting
    say("")
    say(f"Connecting Bill.com (sandbox organisation {account.fields['organization_id']}) ...")
    connection = service.connect(admin, "billcom", username=account.username, password=account.password,
                                 fields=dict(account.fields), variant=account.variant,
                                 base_url=server.base_url("billcom", account.variant))
    counts = {e.kind.value: 0 for e in service.lists()}
    for entry in service.lists():
        counts[entry.kind.value] += 1
    say("  lists synced: " + ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(counts.items())))
    items = service.collect_items()
    for supplier in sorted({i.supplier for i in items if i.supplier}):
        service.set_rule(supplier, category=_category(supplier), tax_account=_TAX_ACCOUNT, due_days=30,
                         auto_publish=True)
    say(f"  {len(items)} item(s) from the inbox; supplier rules set for "
        f"{len({i.supplier for i in items if i.supplier})} supplier(s)")
    outcomes = service.after_fetch()
    published = [o for o in outcomes if o.published]
    say(f"  published {len(published)} bill(s) to Bill.com (connection {connection.id})")
    waiting = len(items) - len(outcomes)
    if waiting:
        say(f"  {waiting} item(s) wait for details before they can be published "
            "(e.g. a total the portal does not show per invoice): `dextcore items list`")
    for outcome in outcomes:
        if not outcome.published:
            say(f"  item {outcome.item_id} not published: {outcome.error}")
    by_id = {i.id: i for i in service.items()}
    return [{"item": o.item_id, "supplier": by_id[o.item_id].supplier, "number": by_id[o.item_id].invoice_number,
             "published": o.published, "bill": o.remote_bill_id, "error": o.error} for o in outcomes]
