"""The ``bt_business`` connector record: what the plugin offers to dextcore."""

from __future__ import annotations

from dextcore.records import Connector, ConnectorKind, CredentialField, FieldType, TwoFactorMedium, Variant

__all__ = ["BUSINESS_HINT", "CONSUMER_HINT", "VARIANTS", "make_connector"]

BUSINESS_HINT = ("BT Business and BT consumer (My BT, home.bt.com) are separate sites with separate logins: "
                 "if this BT ID is for a home broadband or phone account, choose the variant "
                 "\"BT consumer (home.bt.com)\".")
CONSUMER_HINT = ("BT consumer (My BT) and BT Business are separate sites with separate logins: if this login is "
                 "for a business account (secure.business.bt.com), choose the variant \"BT Business\".")

VARIANTS: tuple[Variant, ...] = (
    Variant(name="business", label="BT Business (secure.business.bt.com)", base_url="https://secure.business.bt.com",
            default=True, hint=BUSINESS_HINT, currency="GBP"),
    Variant(name="consumer", label="BT consumer (home.bt.com, My BT)", base_url="https://home.bt.com",
            hint=CONSUMER_HINT, currency="GBP"),
)


def make_connector(implementation: object) -> Connector:
    """The ``bt_business`` connector served by ``implementation`` (the hooks module).

    Username and password are the core's fields; the one extra field says
    where BT should send verification codes.
    """
    return Connector(
        name="bt_business",
        label="BT",
        kind=ConnectorKind.SUPPLIER,
        implementation=implementation,
        variants=VARIANTS,
        fields=(
            CredentialField("code_via", "Send verification codes to", FieldType.CHOICE, choices=("phone", "email"),
                            help="Where BT Business sends the one-time code when it asks for one: the account's "
                                 "mobile phone (text message, the default) or its backup e-mail address."),
        ),
        allowed_domains=("bt.com",),
        two_factor=(TwoFactorMedium.SMS, TwoFactorMedium.EMAIL),
        uses_browser=False,
        description="Monthly bills (PDF) of every billing account of a BT Business login, or of a BT consumer "
                    "(My BT) login.",
        max_concurrency=2,
    )
