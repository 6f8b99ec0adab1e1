"""Machinery for fake portals (sandboxes): a loopback HTTP server, a mailbox that
receives 2FA codes, a controllable clock, fault injection and invoice PDFs.

Each plugin ships its own portal (a :class:`SandboxPortal` subclass) and
offers it through the ``register_sandbox_portals`` hook; tests, the
tutorial and ``dextcore demo`` run them with :class:`SandboxServer`.
"""

from dextcore.sandbox.clock import Clock
from dextcore.sandbox.discovery import DiscoveryResult, LoadFailure, discover_portals
from dextcore.sandbox.events import DemoAccount, Event
from dextcore.sandbox.faults import Faults
from dextcore.sandbox.mailbox import Mailbox, Message
from dextcore.sandbox.pdf import InvoiceLine, invoice_pdf, invoice_totals
from dextcore.sandbox.portal import SandboxPortal
from dextcore.sandbox.server import SandboxServer

__all__ = [
    "Clock",
    "DemoAccount",
    "DiscoveryResult",
    "Event",
    "Faults",
    "InvoiceLine",
    "LoadFailure",
    "Mailbox",
    "Message",
    "SandboxPortal",
    "SandboxServer",
    "discover_portals",
    "invoice_pdf",
    "invoice_totals",
]
