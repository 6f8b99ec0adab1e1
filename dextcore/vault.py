"""The vault: every secret dextcore keeps, encrypted at rest.

Values are sealed with AES-256-GCM (``cryptography``). Each ciphertext is::

    version (1 byte) | key id (8 bytes) | nonce (12 bytes) | ciphertext + tag

* The **key id** (first 8 bytes of the key's SHA-256) lets a value sealed
  under another key be reported as such ("encrypted with another key")
  instead of as an anonymous failure.
* The **associated data** is the row's identity (scope, owner id, name):
  a ciphertext copied to another row fails authentication, so a database
  writer cannot swap one connection's password for another's.

The key comes from ``DEXTCORE_SECRET_KEY`` (``Config.secret_key``, urlsafe
base64 of 32 bytes) or from the key file (``Config.key_file``), created
with mode 0600 on first use. :meth:`Vault.rotate` re-encrypts every row in
one transaction; with a key file the new key is written to
``<key_file>.new`` before the transaction and moved over the key file after
the commit, and a vault opened while ``<key_file>.new`` exists accepts both
keys, so a crash at any point loses nothing.

Rows of ``challenges.code_ciphertext`` are sealed with
:func:`challenge_code_context` as their context so that rotation can
re-encrypt them too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import secrets as _secrets
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dextcore.durable import fsync_dir
from dextcore.store import schema, utcnow

if TYPE_CHECKING:
    from dextcore.config import Config
    from dextcore.store import Store

__all__ = ["Vault", "VaultError", "challenge_code_context", "generate_key", "key_id"]

log = logging.getLogger(__name__)

_VERSION = b"\x01"
_KEY_ID_LEN = 8
_NONCE_LEN = 12
_HEADER_LEN = len(_VERSION) + _KEY_ID_LEN + _NONCE_LEN
_KEY_LEN = 32


class VaultError(Exception):
    """A secret could not be sealed or opened.

    The message names what failed ("cannot decrypt the password of
    connection 12: ...") and never contains a secret or key material.
    """


def generate_key() -> str:
    """A fresh random vault key, urlsafe base64 of 32 bytes (the
    ``DEXTCORE_SECRET_KEY`` format)."""
    return base64.urlsafe_b64encode(_secrets.token_bytes(_KEY_LEN)).decode("ascii")


def key_id(key: bytes) -> bytes:
    """The 8-byte identifier of ``key`` stored in each ciphertext (not secret:
    a truncated hash reveals nothing usable about the key)."""
    return hashlib.sha256(key).digest()[:_KEY_ID_LEN]


def challenge_code_context(challenge_id: int) -> str:
    """The ``context`` to seal ``challenges.code_ciphertext`` of ``challenge_id`` with."""
    return f"challenge:{challenge_id}:code"


def _secret_context(scope: str, owner_id: int, name: str) -> str:
    return f"secret:{scope}:{owner_id}:{name}"


def _describe(scope: str, owner_id: int, name: str) -> str:
    """ "the password of connection 12" — how errors name a secret."""
    return f"the {name.replace('_', ' ')} of {scope} {owner_id}"


def _decode_key(text: str, origin: str) -> bytes:
    cleaned = "".join(text.split())
    try:
        key = base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != _KEY_LEN:
        # Never echo the value: it may be a real key with a typo.
        raise VaultError(
            f"{origin} is not a vault key: expected urlsafe base64 of {_KEY_LEN} bytes "
            "(make one with `dextcore vault generate-key`)"
        )
    return key


def _write_new_file(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 holding ``data``; ``FileExistsError`` if it exists.

    The bytes are written to a private temporary file first and hard-linked
    into place, so a concurrent reader never sees an empty key file.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_name(f".{path.name}.{_secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(temp, flags, 0o600)
    try:
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temp, path)  # atomic, and fails if ``path`` exists
        except FileExistsError:
            raise
        except OSError:
            # Filesystems without hard links: exclusive create, then write.
            fd = os.open(path, flags, 0o600)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
    finally:
        temp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def _read_key_file(path: Path) -> bytes:
    try:
        text = path.read_text("ascii")
    except UnicodeDecodeError:
        text = ""
    if os.name == "posix":
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("vault key file %s is readable by other users (mode %o); chmod 600 it", path, mode)
    return _decode_key(text, f"the key file {path}")


class Vault:
    """Seals and opens secrets; stores them in the ``secrets`` table.

    ``keys`` maps key id to key; ``primary`` is the key new values are
    sealed with. Build one with :meth:`from_config`.
    """

    def __init__(self, store: Store, primary: bytes, *, accepted: tuple[bytes, ...] = (),
                 key_file: Path | None = None) -> None:
        self._store = store
        self._primary = primary
        self._keys = {key_id(k): k for k in (primary, *accepted)}
        self._key_file = key_file

    # -- opening -------------------------------------------------------------

    @classmethod
    def from_config(cls, config: Config, store: Store) -> Vault:
        """The vault of ``config``: key from ``DEXTCORE_SECRET_KEY`` or the key file.

        The key file is created (0600) only while the database holds no
        ciphertext: a missing key file next to existing secrets is an error,
        never a reason to start over with a new key.
        """
        if config.secret_key:
            return cls(store, _decode_key(config.secret_key, "DEXTCORE_SECRET_KEY"))
        path = Path(config.key_file)
        pending = _pending_path(path)
        if not path.exists():
            cls._create_key_file(path, store)
        current = _read_key_file(path)
        vault = cls(store, current, key_file=path)
        if pending.exists():
            vault._recover_rotation(_read_key_file(pending))
        return vault

    @staticmethod
    def _create_key_file(path: Path, store: Store) -> None:
        with store.begin() as conn:
            count = conn.execute(sa.select(sa.func.count()).select_from(schema.secrets)).scalar_one()
        if count:
            raise VaultError(
                f"the vault key file {path} is missing but the database holds {count} encrypted "
                "secrets; restore the key file (or set DEXTCORE_SECRET_KEY to the key) — a new key "
                "could not decrypt them"
            )
        try:
            _write_new_file(path, generate_key().encode("ascii") + b"\n")
            log.info("created vault key file %s", path)
        except FileExistsError:
            pass  # another process created it first; use theirs

    def _recover_rotation(self, new_key: bytes) -> None:
        """A ``<key_file>.new`` exists: a rotation crashed or is running.

        Both keys are accepted. If any row is already sealed with the new
        key, the rotation's transaction committed (it is all or nothing), so
        the new key is moved over the key file to finish it. Otherwise the
        file is left alone — another process may be rotating right now.
        """
        new_id = key_id(new_key)
        self._keys[new_id] = new_key
        if self._count_rows_with_key(new_id):
            assert self._key_file is not None
            os.replace(_pending_path(self._key_file), self._key_file)
            fsync_dir(self._key_file.parent)
            self._primary = new_key
            log.warning("finished an interrupted vault key rotation: %s now holds the new key", self._key_file)
        else:
            log.warning("vault key file %s.new exists (interrupted rotation?); accepting both keys", self._key_file)

    def _count_rows_with_key(self, wanted: bytes) -> int:
        count = 0
        with self._store.begin() as conn:
            for (token,) in conn.execute(sa.select(schema.secrets.c.ciphertext)):
                count += _token_key_id(token) == wanted
            query = sa.select(schema.challenges.c.code_ciphertext).where(
                schema.challenges.c.code_ciphertext.is_not(None))
            for (token,) in conn.execute(query):
                count += _token_key_id(token) == wanted
        return count

    # -- sealing ---------------------------------------------------------------

    @property
    def key_id(self) -> str:
        """Hex id of the key new values are sealed with (not secret)."""
        return key_id(self._primary).hex()

    def encrypt(self, data: bytes, *, context: str) -> bytes:
        """Seal ``data``; ``context`` must be given again to :meth:`decrypt`."""
        return _seal(self._primary, data, context)

    def decrypt(self, token: bytes, *, context: str, what: str | None = None) -> bytes:
        """Open ``token`` sealed with ``context``.

        Raises :class:`VaultError` naming ``what`` (default: the context)
        when the token was sealed with another key, for another context, or
        altered.
        """
        what = what or context
        token = bytes(token)
        if len(token) < _HEADER_LEN + 16 or token[:1] != _VERSION:
            raise VaultError(f"cannot decrypt {what}: the stored value is not a vault ciphertext (damaged)")
        kid = token[1:1 + _KEY_ID_LEN]
        key = self._keys.get(kid)
        if key is None:
            raise VaultError(
                f"cannot decrypt {what}: it was encrypted with another key (key id {kid.hex()}; "
                f"this vault's key is {self.key_id}). Point DEXTCORE_KEY_FILE or "
                "DEXTCORE_SECRET_KEY at the key it was written with"
            )
        nonce = token[1 + _KEY_ID_LEN:_HEADER_LEN]
        try:
            return AESGCM(key).decrypt(nonce, token[_HEADER_LEN:], context.encode("utf-8"))
        except InvalidTag:
            raise VaultError(
                f"cannot decrypt {what}: the value was altered or belongs to another row"
            ) from None

    # -- the secrets table -------------------------------------------------------

    def put(self, scope: str, owner_id: int, name: str, value: str | bytes) -> None:
        """Store (or replace) secret ``name`` of ``scope`` ``owner_id``."""
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        token = self.encrypt(data, context=_secret_context(scope, owner_id, name))
        row = dict(scope=scope, owner_id=owner_id, name=name, ciphertext=token, updated_at=utcnow())
        with self._store.begin() as conn:
            conn.execute(_upsert(conn, row))

    def get_bytes(self, scope: str, owner_id: int, name: str) -> bytes | None:
        """The secret's bytes, ``None`` when it is not stored."""
        t = schema.secrets
        query = sa.select(t.c.ciphertext).where(t.c.scope == scope, t.c.owner_id == owner_id, t.c.name == name)
        with self._store.begin() as conn:
            token = conn.execute(query).scalar_one_or_none()
        if token is None:
            return None
        return self.decrypt(token, context=_secret_context(scope, owner_id, name),
                            what=_describe(scope, owner_id, name))

    def get(self, scope: str, owner_id: int, name: str) -> str | None:
        """The secret as text, ``None`` when it is not stored."""
        data = self.get_bytes(scope, owner_id, name)
        if data is None:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise VaultError(f"{_describe(scope, owner_id, name)} is binary; read it with get_bytes") from None

    def delete(self, scope: str, owner_id: int, name: str | None = None) -> None:
        """Forget one secret, or every secret of ``scope`` ``owner_id`` when ``name`` is ``None``."""
        t = schema.secrets
        where = [t.c.scope == scope, t.c.owner_id == owner_id]
        if name is not None:
            where.append(t.c.name == name)
        with self._store.begin() as conn:
            conn.execute(t.delete().where(*where))

    def names(self, scope: str, owner_id: int) -> set[str]:
        """Which secrets ``scope`` ``owner_id`` has (values are not decrypted)."""
        t = schema.secrets
        with self._store.begin() as conn:
            rows = conn.execute(sa.select(t.c.name).where(t.c.scope == scope, t.c.owner_id == owner_id))
            return {name for (name,) in rows}

    # -- rotation -------------------------------------------------------------------

    def rotate(self, new_key: str | None = None) -> int:
        """Re-encrypt every secret and stored 2FA code under a new key; return how many.

        With a key file, ``new_key`` may be omitted (one is generated). It is
        written to ``<key_file>.new`` (0600) first, every row is re-encrypted
        in one transaction, and only after the commit is the file moved over
        the key file. With ``DEXTCORE_SECRET_KEY``, ``new_key`` is required
        and the caller must put it in the environment afterwards.

        Any row that cannot be decrypted aborts the rotation: nothing is
        changed and :class:`VaultError` names the row. Stop other dextcore
        processes first: one still holding the old key would keep sealing
        new values with it.
        """
        if new_key is None:
            if self._key_file is None:
                raise VaultError(
                    "the vault key comes from DEXTCORE_SECRET_KEY: pass the new key "
                    "(make one with `dextcore vault generate-key`)"
                )
            new_key = generate_key()
        key = _decode_key(new_key, "the new key")
        if key_id(key) == key_id(self._primary):
            raise VaultError("the new key is the current key")
        pending = _pending_path(self._key_file) if self._key_file is not None else None
        if pending is not None:
            self._write_pending(pending, key)
        try:
            count = self._reencrypt_all(key)
        except BaseException:
            if pending is not None:
                pending.unlink(missing_ok=True)
            raise
        if pending is not None and self._key_file is not None:
            os.replace(pending, self._key_file)
            fsync_dir(self._key_file.parent)
        old = self._primary
        self._primary = key
        self._keys = {key_id(key): key, key_id(old): old}
        log.info("vault key rotated: %d values re-encrypted, new key id %s", count, self.key_id)
        return count

    def _write_pending(self, pending: Path, key: bytes) -> None:
        if pending.exists():
            leftover = _read_key_file(pending)
            if self._count_rows_with_key(key_id(leftover)):
                raise VaultError(
                    f"{pending} holds the key of a committed rotation; open the vault again to finish it"
                )
            pending.unlink()  # an abandoned rotation that never committed
        _write_new_file(pending, base64.urlsafe_b64encode(key) + b"\n")

    def _reencrypt_all(self, key: bytes) -> int:
        secrets_t, challenges_t = schema.secrets, schema.challenges
        count = 0
        with self._store.begin() as conn:
            _lock_for_rotation(conn)
            rows = conn.execute(sa.select(secrets_t.c.scope, secrets_t.c.owner_id, secrets_t.c.name,
                                          secrets_t.c.ciphertext)).all()
            for scope, owner_id, name, token in rows:
                context = _secret_context(scope, owner_id, name)
                plain = self.decrypt(token, context=context, what=_describe(scope, owner_id, name))
                conn.execute(
                    secrets_t.update()
                    .where(secrets_t.c.scope == scope, secrets_t.c.owner_id == owner_id, secrets_t.c.name == name)
                    .values(ciphertext=_seal(key, plain, context))
                )
                count += 1
            codes = conn.execute(sa.select(challenges_t.c.id, challenges_t.c.code_ciphertext)
                                 .where(challenges_t.c.code_ciphertext.is_not(None))).all()
            for challenge_id, token in codes:
                context = challenge_code_context(challenge_id)
                plain = self.decrypt(token, context=context, what=f"the code of 2FA challenge {challenge_id}")
                conn.execute(challenges_t.update().where(challenges_t.c.id == challenge_id)
                             .values(code_ciphertext=_seal(key, plain, context)))
                count += 1
        return count

    def __repr__(self) -> str:
        source = f"key file {self._key_file}" if self._key_file is not None else "DEXTCORE_SECRET_KEY"
        return f"Vault(key_id={self.key_id}, from {source})"

    __str__ = __repr__


def _pending_path(key_file: Path) -> Path:
    return key_file.with_name(key_file.name + ".new")


def _seal(key: bytes, data: bytes, context: str) -> bytes:
    nonce = os.urandom(_NONCE_LEN)
    return _VERSION + key_id(key) + nonce + AESGCM(key).encrypt(nonce, data, context.encode("utf-8"))


def _token_key_id(token: bytes) -> bytes | None:
    token = bytes(token)
    if len(token) < _HEADER_LEN or token[:1] != _VERSION:
        return None
    return token[1:1 + _KEY_ID_LEN]


def _upsert(conn: sa.Connection, row: dict[str, Any]) -> Any:
    t = schema.secrets
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise VaultError(f"unsupported database {conn.dialect.name}")
    stmt = insert(t).values(**row)
    return stmt.on_conflict_do_update(
        index_elements=[t.c.scope, t.c.owner_id, t.c.name],
        set_={"ciphertext": stmt.excluded.ciphertext, "updated_at": stmt.excluded.updated_at},
    )


def _lock_for_rotation(conn: sa.Connection) -> None:
    """Keep other writers out of the tables while they are re-encrypted."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("LOCK TABLE secrets, challenges IN SHARE ROW EXCLUSIVE MODE"))
    else:
        # SQLite: a write statement (even one touching no row) takes the
        # database write lock now, before the rows are read.
        conn.execute(schema.secrets.update().where(sa.false()).values(name=schema.secrets.c.name))
