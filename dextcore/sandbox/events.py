"""Records the sandbox shares with its users: what happened (events) and who can log in (demo accounts)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

import attrs

__all__ = ["DemoAccount", "Event"]


def _frozen_dict(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return dict(value or {})


@attrs.frozen
class Event:
    """Something a fake portal did: ``login``, ``login_failed``, ``code_sent``, ``file_served``...

    ``detail`` never holds secrets (no passwords, codes or cookies).
    """

    at: dt.datetime
    portal: str
    kind: str
    detail: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "portal": self.portal, "kind": self.kind, "detail": dict(self.detail)}


@attrs.frozen
class DemoAccount:
    """An account a sandbox portal seeds (printed by ``dextcore sandbox``).

    The password is a fake one, yet kept out of the repr like any secret.
    """

    connector: str
    variant: str | None
    username: str
    password: str = attrs.field(repr=False)
    scenario: str
    description: str
    totp_secret: str | None = attrs.field(default=None, repr=False)
    phone: str | None = None
    fields: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_dict)

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)
