"""The two-factor hand-off between a waiting fetch and whoever has the code.

A fetch that needs a code a person must read (SMS, e-mail, an app without a
stored secret) records the challenge in the ``challenges`` table. An
unattended run stops there ("Additional information required"). An
interactive run (``dextcore fetch ID --force --wait-for-code 300``) waits:
another process — ``dextcore 2fa submit ID CODE`` or the Python API —
stores the code, encrypted by the vault, and the waiting fetch polls the
database until it appears or its deadline passes. The database is the
meeting point so the two sides can be different processes or machines.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import sqlalchemy as sa

from dextcore.records import Challenge
from dextcore.store import Store, as_utc, schema, utcnow

__all__ = ["ChallengeDesk", "NoPendingChallenge", "submit_code"]

POLL_SECONDS = 0.25


class NoPendingChallenge(LookupError):
    """No fetch is waiting for a code for this connection."""


def _context(challenge_id: int) -> str:
    try:
        from dextcore.vault import challenge_code_context
    except ImportError:  # pragma: no cover - older vault
        return f"challenge:{challenge_id}:code"
    return challenge_code_context(challenge_id)


class ChallengeDesk:
    """The runner's side: open challenges, wait for their codes."""

    def __init__(self, store: Store, vault: Any) -> None:
        self.store = store
        self.vault = vault

    def open(self, connection_id: int, challenge: Challenge, *, waiting: bool = True) -> int:
        """Record a pending challenge (any older pending one of the connection expires); returns its id.

        ``waiting=False`` records what the portal asked in a run that did
        not wait (unattended): it shows in ``dextcore 2fa show`` but no code
        can be submitted for it — that login is gone.
        """
        t = schema.challenges
        now = utcnow()
        with self.store.begin() as conn:
            conn.execute(t.update().where(t.c.connection_id == connection_id, t.c.state.in_(("pending", "submitted")))
                         .values(state="expired", code_ciphertext=None))
            return int(conn.execute(t.insert().values(
                connection_id=connection_id, medium=challenge.medium.value, prompt=challenge.prompt,
                created_at=now, expires_at=challenge.expires_at if waiting else now, state="pending",
            )).inserted_primary_key[0])

    def close(self, challenge_id: int, state: str = "expired") -> None:
        t = schema.challenges
        with self.store.begin() as conn:
            conn.execute(t.update().where(t.c.id == challenge_id).values(state=state, code_ciphertext=None))

    def take_code(self, challenge_id: int) -> str | None:
        """The submitted code, once; the row is marked used and the ciphertext dropped."""
        t = schema.challenges
        with self.store.begin() as conn:
            row = conn.execute(sa.select(t.c.state, t.c.code_ciphertext).where(t.c.id == challenge_id)).first()
            if row is None or row.state != "submitted" or row.code_ciphertext is None:
                return None
            conn.execute(t.update().where(t.c.id == challenge_id).values(state="used", code_ciphertext=None))
        return self.vault.decrypt(row.code_ciphertext, context=_context(challenge_id)).decode()

    async def wait_for_code(self, challenge_id: int, deadline: float) -> str | None:
        """Poll until a code is submitted or ``deadline`` (``time.monotonic()``) passes."""
        while True:
            code = await asyncio.to_thread(self.take_code, challenge_id)
            if code is not None:
                return code
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close(challenge_id)
                return None
            await asyncio.sleep(min(POLL_SECONDS, remaining))


def submit_code(store: Store, vault: Any, connection_id: int, code: str) -> int:
    """Hand ``code`` to the fetch waiting on ``connection_id``; returns the challenge id.

    Raises :class:`NoPendingChallenge` when nothing is waiting (no
    interactive fetch running, or its challenge expired).
    """
    code = code.strip()
    if not code:
        raise ValueError("the code is empty")
    t = schema.challenges
    now = utcnow()
    with store.begin() as conn:
        row = conn.execute(
            sa.select(t.c.id, t.c.expires_at).where(t.c.connection_id == connection_id, t.c.state == "pending")
            .order_by(t.c.created_at.desc(), t.c.id.desc()).limit(1)
        ).first()
        expires = as_utc(row.expires_at) if row is not None else None
        if row is None or (expires is not None and expires < now):
            raise NoPendingChallenge(
                f"no fetch of connection {connection_id} is waiting for a code; start one with "
                f"`dextcore fetch {connection_id} --force --wait-for-code 300`")
        token = vault.encrypt(code.encode(), context=_context(row.id))
        conn.execute(t.update().where(t.c.id == row.id).values(state="submitted", code_ciphertext=token))
        return int(row.id)


def pending_challenge(store: Store, connection_id: int) -> dict[str, Any] | None:
    """The newest pending challenge of a connection (medium, prompt, created/expires, and
    ``waiting``: whether a fetch is waiting for its code), if any."""
    t = schema.challenges
    with store.connect() as conn:
        row = conn.execute(
            sa.select(t).where(t.c.connection_id == connection_id, t.c.state == "pending")
            .order_by(t.c.created_at.desc(), t.c.id.desc()).limit(1)).first()
    if row is None:
        return None
    expires = as_utc(row.expires_at)
    return {"id": row.id, "medium": row.medium, "prompt": row.prompt, "created_at": as_utc(row.created_at),
            "expires_at": expires, "waiting": expires is None or expires > utcnow()}

