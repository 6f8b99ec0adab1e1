"""Where dextcore keeps things, read once from the environment.

| variable | meaning | default |
| --- | --- | --- |
| ``DEXTCORE_HOME`` | data folder (database, inbox, key file, saved pages) | platformdirs user data dir |
| ``DEXTCORE_DATABASE_URL`` | SQLAlchemy URL of the store | ``sqlite:///$DEXTCORE_HOME/dextcore.db`` |
| ``DEXTCORE_INBOX`` | folder documents are written to | ``$DEXTCORE_HOME/inbox`` |
| ``DEXTCORE_SECRET_KEY`` | vault key (urlsafe base64, 32 bytes); wins over the key file | — |
| ``DEXTCORE_KEY_FILE`` | vault key file, created 0600 on first use | ``$DEXTCORE_HOME/vault.key`` |
| ``DEXTCORE_SMTP_HOST`` / ``_PORT`` / ``_FROM`` | alert e-mail | ``localhost`` / ``25`` / ``dextcore@localhost`` |
| ``DEXTCORE_SMTP_USER`` / ``_PASSWORD`` / ``_STARTTLS`` | SMTP login (optional) | — |
| ``DEXTCORE_MAX_DOCUMENT_BYTES`` | inbox size cap per document | 25 MiB |
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import attrs
import platformdirs

__all__ = ["Config", "SmtpConfig"]


@attrs.frozen
class SmtpConfig:
    host: str = "localhost"
    port: int = 25
    sender: str = "dextcore@localhost"
    user: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    starttls: bool = False


@attrs.frozen
class Config:
    home: Path
    database_url: str
    inbox_dir: Path
    key_file: Path
    secret_key: str | None = attrs.field(default=None, repr=False)
    smtp: SmtpConfig = SmtpConfig()
    max_document_bytes: int = 25 * 1024 * 1024

    @property
    def pages_dir(self) -> Path:
        """Where pages a plugin could not understand are kept for maintainers."""
        return self.home / "failed-pages"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Config:
        env = os.environ if environ is None else environ
        home = Path(env.get("DEXTCORE_HOME") or platformdirs.user_data_dir("dextcore"))
        smtp = SmtpConfig(
            host=env.get("DEXTCORE_SMTP_HOST", "localhost"),
            port=int(env.get("DEXTCORE_SMTP_PORT", "25")),
            sender=env.get("DEXTCORE_SMTP_FROM", "dextcore@localhost"),
            user=env.get("DEXTCORE_SMTP_USER") or None,
            password=env.get("DEXTCORE_SMTP_PASSWORD") or None,
            starttls=env.get("DEXTCORE_SMTP_STARTTLS", "") in ("1", "true", "yes"),
        )
        values: dict[str, object] = dict(
            home=home,
            database_url=env.get("DEXTCORE_DATABASE_URL") or f"sqlite:///{home / 'dextcore.db'}",
            inbox_dir=Path(env.get("DEXTCORE_INBOX") or home / "inbox"),
            key_file=Path(env.get("DEXTCORE_KEY_FILE") or home / "vault.key"),
            secret_key=env.get("DEXTCORE_SECRET_KEY") or None,
            smtp=smtp,
            max_document_bytes=int(env.get("DEXTCORE_MAX_DOCUMENT_BYTES", str(25 * 1024 * 1024))),
        )
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
