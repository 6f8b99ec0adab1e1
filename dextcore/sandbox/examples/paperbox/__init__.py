"""Paperbox, the fictional office-supplies supplier of the plugin tutorial (docs/tutorial.md).

Import :class:`PaperboxPortal` from here; the portal's routes, page shapes
and scenarios are described in :mod:`dextcore.sandbox.examples.paperbox.portal`.
"""

from dextcore.sandbox.examples.paperbox.data import (
    PER_PAGE,
    PaperboxAccount,
    PaperboxInvoice,
    invoices_for,
    seed_accounts,
)
from dextcore.sandbox.examples.paperbox.portal import PaperboxPortal

__all__ = ["PER_PAGE", "PaperboxAccount", "PaperboxInvoice", "PaperboxPortal", "invoices_for", "seed_accounts"]
