"""dextcore: fetch supplier invoices on a schedule, hand them to an inbox,
publish bills to accounting software.

Public API: :class:`Dextcore` (embedding), the records plugins exchange
(:mod:`dextcore.records`), the outcomes they raise (:mod:`dextcore.outcomes`),
the statuses (:class:`Status`) and the hook markers (:data:`hookimpl`).
"""

from __future__ import annotations

from typing import Any

from dextcore.hookspecs import hookimpl
from dextcore.records import (
    Challenge,
    Connector,
    ConnectorKind,
    CredentialField,
    Direction,
    DocumentKind,
    DocumentRef,
    Downloaded,
    FieldType,
    TwoFactorMedium,
    Variant,
)
from dextcore.statuses import Status

__version__ = "0.1.0"

__all__ = [
    "Challenge",
    "Connector",
    "ConnectorKind",
    "CredentialField",
    "Dextcore",
    "Direction",
    "DocumentKind",
    "DocumentRef",
    "Downloaded",
    "FieldType",
    "Status",
    "TwoFactorMedium",
    "Variant",
    "hookimpl",
]


def __getattr__(name: str) -> Any:
    # Importing the facade pulls in SQLAlchemy and the vault; plugins that
    # only need the records should not pay for that.
    if name == "Dextcore":
        from dextcore.api import Dextcore

        return Dextcore
    raise AttributeError(name)
