"""A minimal supplier plugin used by the core tests (never installed)."""

from __future__ import annotations

import sys

from dextcore import Connector, ConnectorKind, CredentialField, FieldType, Variant, hookimpl

CONNECTOR = Connector(
    name="toy",
    label="Toy Portal",
    kind=ConnectorKind.SUPPLIER,
    implementation=sys.modules[__name__],
    variants=(
        Variant("uk", "Toy UK (toy.co.uk)", "https://www.toy.co.uk", default=True, hint="UK accounts sign in at toy.co.uk."),
        Variant("de", "Toy Germany (toy.de)", "https://www.toy.de"),
    ),
    fields=(
        CredentialField("account_number", "Account number"),
        CredentialField("totp_secret", "Authenticator secret", FieldType.TOTP_SECRET, secret=True),
    ),
    allowed_domains=("toy.co.uk", "toy.de"),
)


@hookimpl
def register_connectors():
    return [CONNECTOR]


@hookimpl
def authenticate(session):
    return "toy-authenticated"
