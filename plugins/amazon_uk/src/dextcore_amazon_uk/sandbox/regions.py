"""The Amazon marketplaces the sandbox serves, and how each one writes dates,
money and its page texts.

Facts from the reference (portals.md): regions share page structure and
differ in host, ``openid.assoc_handle``, logged-in cookie, currency and date
format. The page texts below are the sites' own wording (UK spelling on
.co.uk, German on .de).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Mapping

import attrs

__all__ = ["REGIONS", "Region", "region_for_host", "region_for_variant"]

_DE_MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
              "September", "Oktober", "November", "Dezember")
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")


@attrs.frozen
class Region:
    """One marketplace as served by the sandbox under a host-like base path."""

    variant: str
    """Connector variant name: ``co.uk``, ``de`` or ``com``."""
    host: str
    assoc_handle: str
    cookie_suffix: str
    """``acbuk`` gives cookies ``x-acbuk``, ``at-acbuk``; ``main`` gives ``x-main``."""
    currency: str
    symbol: str
    vat_rate: Decimal
    """VAT printed on invoices (0 for the US: sales tax is not invoiced as VAT)."""
    order_prefixes: tuple[str, ...]
    country_code: str
    html_lang: str
    texts: Mapping[str, str] = attrs.field(repr=False)

    @property
    def base_path(self) -> str:
        """``/www.amazon.co.uk``: the sandbox's stand-in for the host."""
        return "/" + self.host

    @property
    def login_cookie(self) -> str:
        return f"x-{self.cookie_suffix}"

    @property
    def access_cookie(self) -> str:
        return f"at-{self.cookie_suffix}"

    @property
    def remember_device_cookie(self) -> str:
        """Sandbox choice (the reference names no cookie): ``ap-rd-<suffix>``."""
        return f"ap-rd-{self.cookie_suffix}"

    def text(self, key: str, **values: object) -> str:
        return self.texts[key].format(**values)

    def format_date(self, day: dt.date) -> str:
        """"5 March 2024" (UK), "5. März 2024" (DE), "March 5, 2024" (US)."""
        if self.variant == "de":
            return f"{day.day}. {_DE_MONTHS[day.month - 1]} {day.year}"
        if self.variant == "com":
            return f"{_EN_MONTHS[day.month - 1]} {day.day}, {day.year}"
        return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"

    def format_money(self, amount: Decimal) -> str:
        """"£1,234.56" (UK), "1.234,56 €" (DE), "$1,234.56" (US)."""
        text = f"{abs(amount):,.2f}"
        sign = "-" if amount < 0 else ""
        if self.variant == "de":
            text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
            return f"{sign}{text} {self.symbol}"
        return f"{sign}{self.symbol}{text}"


_EN = {
    "signin_title": "Amazon Sign In",
    "signin_heading": "Sign in",
    "email_label": "Email or mobile phone number",
    "password_label": "Password",
    "continue": "Continue",
    "signin_button": "Sign in",
    "remember_me": "Keep me signed in",
    "problem": "There was a problem",
    "wrong_password": "Your password is incorrect",
    "unknown_email": "We cannot find an account with that e-mail address",
    "important": "Important Message!",
    "captcha_warning": "To better protect your account, please re-enter your password and then enter the "
                       "characters as they are shown in the image below.",
    "captcha_wrong": "Enter the characters as they are given in the challenge.",
    "captcha_label": "Type characters",
    "robot_heading": "Enter the characters you see below",
    "robot_text": "Sorry, we just need to make sure you're not a robot. For best results, please make sure "
                  "your browser is accepting cookies.",
    "robot_button": "Continue shopping",
    "cvf_heading": "Solve this puzzle to protect your account",
    "cvf_wrong": "The characters you entered don't match. Please try again.",
    "intent_heading": "Looks like you're new to Amazon",
    "intent_text": "We cannot find an account with {email}. Create an account to continue.",
    "mfa_title": "Two-Step Verification",
    "mfa_sms": "For added security, please enter the One Time Password (OTP) that has been sent to a phone "
               "number ending in {last}",
    "mfa_voice": "We are calling the phone number ending in {last} with your One Time Password (OTP)",
    "mfa_totp": "Enter the OTP from the Authenticator App",
    "mfa_label": "Enter OTP",
    "remember_device": "Don't require OTP on this browser",
    "wrong_code": "The One Time Password (OTP) you entered is not valid. Please try again.",
    "too_many_otps": "You've requested too many OTPs today. Please try again later.",
    "choose_device": "Where should we send the One Time Password (OTP)?",
    "send_code": "Send OTP",
    "sms_text": "{code} is your Amazon OTP. Do not share it with anyone.",
    "voice_text": "Amazon calling: your one time password is {code}.",
    "approval_heading": "Approve the notification sent to:",
    "approval_text": "Amazon: approve the sign-in from your Amazon app, or enter {code} to sign in.",
    "switch_title": "Switch accounts",
    "cookies_title": "Please Enable Cookies to Continue",
    "cookies_text": "To continue shopping at Amazon, please enable cookies in your Web browser.",
    "internal_error": "Internal Error. Please try again later.",
    "hello_signin": "Hello, sign in",
    "hello": "Hello, {name}",
    "account_lists": "Account & Lists",
    "sign_out": "Sign Out",
    "your_orders": "Your Orders",
    "orders_count": "{count} orders",
    "orders_count_one": "1 order",
    "placed_in": "placed in",
    "no_orders": "You have not placed any orders in {period}.",
    "order_placed": "Order placed",
    "total": "Total",
    "dispatch_to": "Dispatch to",
    "order_number": "Order #",
    "view_order": "View order details",
    "invoice": "Invoice",
    "view_invoice": "View invoice",
    "printable_summary": "Printable Order Summary",
    "invoice_n": "Invoice {n}",
    "credit_note_n": "Credit note {n}",
    "request_invoice": "Request invoice",
    "previous": "Previous",
    "next": "Next",
    "last30": "last 30 days",
    "months3": "past 3 months",
    "order_summary": "Order Summary",
    "sold_by": "Sold by:",
    "grand_total": "Grand Total:",
}

_US = dict(_EN, unknown_email="We cannot find an account with that email address", dispatch_to="Ship to",
           remember_me="Keep me signed in")

_DE = dict(
    _EN,
    **{"continue": "Weiter"},
    signin_title="Amazon Anmelden",
    signin_heading="Anmelden",
    email_label="E-Mail-Adresse oder Mobiltelefonnummer",
    password_label="Passwort",
    signin_button="Anmelden",
    remember_me="Angemeldet bleiben",
    problem="Es ist ein Problem aufgetreten",
    wrong_password="Ihr Passwort ist falsch",
    unknown_email="Wir finden kein Konto mit dieser E-Mail-Adresse",
    important="Wichtige Nachricht!",
    captcha_warning="Um Ihr Konto besser zu schützen, geben Sie Ihr Passwort erneut ein und geben Sie dann "
                    "die Zeichen ein, die in der Abbildung unten gezeigt werden.",
    captcha_wrong="Geben Sie die Zeichen so ein, wie sie in der Sicherheitsabfrage angezeigt werden.",
    captcha_label="Zeichen eingeben",
    robot_heading="Geben Sie die unten angezeigten Zeichen ein",
    robot_text="Es tut uns Leid! Wir müssen uns nur vergewissern, dass Sie kein Roboter sind.",
    robot_button="Weiter shoppen",
    intent_heading="Sieht so aus, als wären Sie neu bei Amazon",
    intent_text="Wir finden kein Konto mit {email}. Erstellen Sie ein Konto, um fortzufahren.",
    mfa_title="Zwei-Schritt-Verifizierung",
    mfa_sms="Zur zusätzlichen Sicherheit geben Sie bitte das Einmalpasswort (OTP) ein, das an eine "
            "Telefonnummer gesendet wurde, die auf {last} endet",
    mfa_totp="Geben Sie das Einmalpasswort aus der Authenticator-App ein",
    mfa_label="Einmalpasswort eingeben",
    remember_device="Auf diesem Browser kein Einmalpasswort verlangen",
    wrong_code="Das eingegebene Einmalpasswort (OTP) ist ungültig. Bitte versuchen Sie es erneut.",
    too_many_otps="Sie haben heute zu viele Einmalpasswörter angefordert.",
    choose_device="Wohin sollen wir das Einmalpasswort (OTP) senden?",
    send_code="Einmalpasswort senden",
    hello_signin="Hallo, anmelden",
    hello="Hallo, {name}",
    account_lists="Konto und Listen",
    sign_out="Abmelden",
    your_orders="Meine Bestellungen",
    orders_count="{count} Bestellungen",
    orders_count_one="1 Bestellung",
    placed_in="aufgegeben in",
    no_orders="Sie haben in {period} keine Bestellungen aufgegeben.",
    order_placed="Bestellung aufgegeben",
    total="Summe",
    dispatch_to="Lieferung an",
    order_number="Bestellnr.",
    view_order="Bestelldetails anzeigen",
    invoice="Rechnung",
    printable_summary="Bestellübersicht drucken",
    invoice_n="Rechnung {n}",
    credit_note_n="Gutschrift {n}",
    request_invoice="Rechnung anfordern",
    previous="Zurück",
    next="Weiter",
    last30="letzte 30 Tage",
    months3="letzte 3 Monate",
    order_summary="Bestellübersicht",
    sold_by="Verkauf durch:",
    grand_total="Gesamtsumme:",
)

REGIONS: tuple[Region, ...] = (
    Region(variant="co.uk", host="www.amazon.co.uk", assoc_handle="gbflex", cookie_suffix="acbuk", currency="GBP",
           symbol="£", vat_rate=Decimal("0.20"), order_prefixes=("202", "203", "204", "205", "206"),
           country_code="GB", html_lang="en-gb", texts=_EN),
    Region(variant="de", host="www.amazon.de", assoc_handle="deflex", cookie_suffix="acbde", currency="EUR",
           symbol="€", vat_rate=Decimal("0.19"), order_prefixes=("302", "303", "304", "305", "306"),
           country_code="DE", html_lang="de-de", texts=_DE),
    Region(variant="com", host="www.amazon.com", assoc_handle="usflex", cookie_suffix="main", currency="USD",
           symbol="$", vat_rate=Decimal("0"), order_prefixes=("111", "112", "113", "114"),
           country_code="US", html_lang="en-us", texts=_US),
)


def region_for_host(host: str) -> Region:
    for region in REGIONS:
        if region.host == host:
            return region
    raise KeyError(host)


def region_for_variant(variant: str | None) -> Region:
    """The region of a connector variant; business variants (``co.uk-business``) share their region's site."""
    name = (variant or "co.uk").removesuffix("-business")
    for region in REGIONS:
        if region.variant == name:
            return region
    raise KeyError(variant)
