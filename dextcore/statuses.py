"""Connection statuses as users see them (product.md section 3)."""

from __future__ import annotations

import enum

__all__ = ["Status"]


class Status(str, enum.Enum):
    """The state of a connection.

    ``label`` is the user-facing name, ``needs_attention`` says whether a
    person must act, ``hint`` tells them what to do.
    """

    AWAITING_CLIENT = "awaiting_client"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    INCORRECT_CREDENTIALS = "incorrect_credentials"
    ADDITIONAL_INFO_REQUIRED = "additional_info_required"
    ACTION_REQUIRED = "action_required"
    SSO_NOT_SUPPORTED = "sso_not_supported"
    BLOCKED = "blocked"
    PORTAL_UNAVAILABLE = "portal_unavailable"
    PLUGIN_BROKEN = "plugin_broken"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def needs_attention(self) -> bool:
        return self in _NEEDS_ATTENTION

    @property
    def hint(self) -> str:
        return _HINTS[self]

    @property
    def retryable(self) -> bool:
        """Whether the scheduler may run the connection again unprompted.

        A rejected password is never retried on its own: repeated failures
        lock accounts.
        """
        return self not in (
            Status.INCORRECT_CREDENTIALS,
            Status.SSO_NOT_SUPPORTED,
            Status.ACTION_REQUIRED,
            Status.AWAITING_CLIENT,
            Status.EXPIRED,
        )


_LABELS = {
    Status.AWAITING_CLIENT: "Waiting for client to connect",
    Status.CONNECTING: "Connecting to supplier",
    Status.CONNECTED: "Connected",
    Status.INCORRECT_CREDENTIALS: "Incorrect login credentials",
    Status.ADDITIONAL_INFO_REQUIRED: "Additional information required",
    Status.ACTION_REQUIRED: "Action required",
    Status.SSO_NOT_SUPPORTED: "SSO not supported",
    Status.BLOCKED: "Blocked / captcha",
    Status.PORTAL_UNAVAILABLE: "Portal unavailable",
    Status.PLUGIN_BROKEN: "Plugin broken",
    Status.EXPIRED: "Expired",
}

_NEEDS_ATTENTION = frozenset(
    {
        Status.INCORRECT_CREDENTIALS,
        Status.ADDITIONAL_INFO_REQUIRED,
        Status.ACTION_REQUIRED,
        Status.SSO_NOT_SUPPORTED,
        Status.BLOCKED,
        Status.EXPIRED,
    }
)

_HINTS = {
    Status.AWAITING_CLIENT: "The client has been invited to enter their credentials.",
    Status.CONNECTING: "The first fetch is running; documents appear as they are collected.",
    Status.CONNECTED: "",
    Status.INCORRECT_CREDENTIALS: (
        "Check that you picked the right portal variant (region or business/personal "
        "account), that you used the username the portal expects (it may not be your "
        "email), that capitals match, that there are no spaces before or after, and "
        "whether the password was reset recently. Then edit the credentials."
    ),
    Status.ADDITIONAL_INFO_REQUIRED: (
        "The portal asked for a verification code. Run a forced fetch and enter the "
        "code, or store the authenticator (TOTP) secret so codes are generated for you."
    ),
    Status.ACTION_REQUIRED: (
        "Log in to the portal in your browser and complete what it asks "
        "(change an expired password, accept terms, confirm details), then force a fetch."
    ),
    Status.SSO_NOT_SUPPORTED: (
        "This account signs in through single sign-on (Google, Microsoft, Okta ...). "
        "Create a password login for the portal or use another account."
    ),
    Status.BLOCKED: (
        "The portal showed a captcha or bot check. Log in once in your browser, then "
        "force a fetch; if it persists, try again later."
    ),
    Status.PORTAL_UNAVAILABLE: "The portal is down or slow; dextcore retries automatically.",
    Status.PLUGIN_BROKEN: (
        "The portal's pages no longer look as the plugin expects. Nothing for you to do: "
        "the failing page was saved for the plugin's maintainers."
    ),
    Status.EXPIRED: "The connection has expired: an administrator must reconnect it.",
}
