"""The typed failures a connector raises, each mapped to a :class:`Status`.

A plugin raises one of these (woob-style) when a portal says something a
person must act on. The core turns it into the connection's status and
message. Any other exception escaping a plugin is a bug in the plugin: the
core records "Plugin broken" and saves the page that failed.

Messages must never contain secrets: they are stored, logged and e-mailed.
"""

from __future__ import annotations

import datetime as dt

from dextcore.records import Challenge
from dextcore.statuses import Status

__all__ = [
    "ActionRequired",
    "Blocked",
    "ConnectorOutcome",
    "ForeignHostBlocked",
    "IncorrectCode",
    "IncorrectCredentials",
    "LayoutChanged",
    "PortalUnavailable",
    "SsoNotSupported",
    "TwoFactorRequired",
]


class ConnectorOutcome(Exception):
    """Base of every outcome a connector may raise."""

    status: Status = Status.PLUGIN_BROKEN

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.status.label)
        self.message = message or self.status.label


class IncorrectCredentials(ConnectorOutcome):
    """The portal rejected the username or password.

    ``hint`` points at the likely cause, for example the other variant
    ("this looks like a business account: use BT Business").
    """

    status = Status.INCORRECT_CREDENTIALS

    def __init__(self, message: str = "", *, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class TwoFactorRequired(ConnectorOutcome):
    """The credentials were accepted and the portal wants a second factor."""

    status = Status.ADDITIONAL_INFO_REQUIRED

    def __init__(self, challenge: Challenge, message: str = "") -> None:
        super().__init__(message or challenge.prompt)
        self.challenge = challenge


class IncorrectCode(ConnectorOutcome):
    """The portal rejected a two-factor code; a new code may be asked for."""

    status = Status.ADDITIONAL_INFO_REQUIRED

    def __init__(self, message: str = "The code was not accepted.", *, challenge: Challenge | None = None) -> None:
        super().__init__(message)
        self.challenge = challenge


class ActionRequired(ConnectorOutcome):
    """The portal needs the user to do something on the site first."""

    status = Status.ACTION_REQUIRED

    def __init__(self, what: str, *, where: str = "") -> None:
        super().__init__(f"{what} ({where})" if where else what)
        self.what = what
        self.where = where


class SsoNotSupported(ConnectorOutcome):
    status = Status.SSO_NOT_SUPPORTED

    def __init__(self, provider: str = "") -> None:
        text = "This account signs in through single sign-on"
        super().__init__(f"{text} ({provider})." if provider else f"{text}.")
        self.provider = provider


class Blocked(ConnectorOutcome):
    """A captcha or bot wall that could not be passed."""

    status = Status.BLOCKED

    def __init__(self, kind: str = "captcha", message: str = "") -> None:
        super().__init__(message or f"The portal showed a {kind}.")
        self.kind = kind


class PortalUnavailable(ConnectorOutcome):
    """Down, timing out or rate limiting; the scheduler retries later."""

    status = Status.PORTAL_UNAVAILABLE

    def __init__(self, message: str = "", *, retry_after: dt.timedelta | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LayoutChanged(ConnectorOutcome):
    """A page no longer matches what the plugin knows (a site redesign).

    Raise it with the response that failed: the core saves it, secrets
    scrubbed, for the maintainer.
    """

    status = Status.PLUGIN_BROKEN

    def __init__(self, what: str, *, page: object | None = None) -> None:
        super().__init__(f"Page not understood: {what}")
        self.what = what
        self.page = page


class ForeignHostBlocked(ConnectorOutcome):
    """The portal sent the crawl to a host outside the connector's domains.

    The request was not sent, so no credential left for that host.
    """

    status = Status.PLUGIN_BROKEN

    def __init__(self, host: str) -> None:
        super().__init__(f"The portal redirected to {host}, outside the connector's allowed domains; the request was not sent.")
        self.host = host
