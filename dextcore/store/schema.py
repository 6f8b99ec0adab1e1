"""The database tables (SQLAlchemy Core), one :data:`metadata` for all.

Secrets are never stored here in plain text: the ``secrets`` table holds
vault ciphertexts only. Documents outlive their connection
(``ON DELETE SET NULL``): deleting a connection never loses what it
collected.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["metadata"]

metadata = sa.MetaData()

_ts = sa.DateTime(timezone=True)

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", _ts, nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True, comment="the user's e-mail address"),
    sa.Column("name", sa.String(255), nullable=False, server_default=""),
    sa.Column("role", sa.String(16), nullable=False, server_default="member"),
    sa.Column("created_at", _ts, nullable=False),
)

connections = sa.Table(
    "connections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("connector", sa.String(100), nullable=False),
    sa.Column("variant", sa.String(100), nullable=True),
    sa.Column("direction", sa.String(8), nullable=False, server_default="cost"),
    sa.Column("owner", sa.String(255), nullable=False, comment="document owner"),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("notify", sa.String(255), nullable=False),
    sa.Column("username", sa.String(255), nullable=True),
    sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("history_from", sa.Date, nullable=True, comment="NULL: all history"),
    sa.Column("fields", sa.JSON, nullable=False, default=dict, comment="non-secret plugin fields"),
    sa.Column("base_url", sa.String(1000), nullable=True, comment="override of the variant URL (sandbox, tests)"),
    sa.Column("status", sa.String(40), nullable=False),
    sa.Column("status_reason", sa.Text, nullable=False, server_default=""),
    sa.Column("status_changed_at", _ts, nullable=False),
    sa.Column("documents_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_fetched_at", _ts, nullable=True, comment="when the newest document was collected"),
    sa.Column("interval_seconds", sa.Integer, nullable=False, server_default=str(7 * 24 * 3600)),
    sa.Column("window", sa.JSON, nullable=True, comment="allowed weekdays/hours for unattended runs"),
    sa.Column("next_run_at", _ts, nullable=True, comment="NULL: not scheduled"),
    sa.Column("last_run_at", _ts, nullable=True),
    sa.Column("last_full_run_at", _ts, nullable=True),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0", comment="consecutive transient failures"),
    sa.Column("created_at", _ts, nullable=False),
)
sa.Index("ix_connections_due", connections.c.next_run_at)
sa.Index("ix_connections_status", connections.c.status)

status_history = sa.Table(
    "status_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("connection_id", sa.Integer, sa.ForeignKey("connections.id", ondelete="CASCADE"), nullable=False),
    sa.Column("at", _ts, nullable=False),
    sa.Column("old", sa.String(40), nullable=True),
    sa.Column("new", sa.String(40), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
)
sa.Index("ix_status_history_connection", status_history.c.connection_id, status_history.c.at)

secrets = sa.Table(
    "secrets",
    metadata,
    sa.Column("scope", sa.String(40), primary_key=True, comment="'connection', 'accounting', ..."),
    sa.Column("owner_id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), primary_key=True, comment="password, totp_secret, session ..."),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("updated_at", _ts, nullable=False),
)

invitations = sa.Table(
    "invitations",
    metadata,
    sa.Column("token_sha256", sa.String(64), primary_key=True, comment="the token itself is never stored"),
    sa.Column("connection_id", sa.Integer, sa.ForeignKey("connections.id", ondelete="CASCADE"), nullable=False),
    sa.Column("email", sa.String(255), nullable=True, comment="who was invited"),
    sa.Column("expires_at", _ts, nullable=False),
    sa.Column("accepted_at", _ts, nullable=True),
    sa.Column("created_at", _ts, nullable=False),
)

documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("connection_id", sa.Integer, sa.ForeignKey("connections.id", ondelete="SET NULL"), nullable=True),
    sa.Column("connector", sa.String(100), nullable=False),
    sa.Column("owner", sa.String(255), nullable=False),
    sa.Column("direction", sa.String(8), nullable=False, server_default="cost"),
    sa.Column("stable_id", sa.String(500), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("supplier", sa.String(255), nullable=True),
    sa.Column("number", sa.String(255), nullable=True),
    sa.Column("date", sa.Date, nullable=True),
    sa.Column("total", sa.Numeric(14, 2), nullable=True),
    sa.Column("currency", sa.String(3), nullable=True),
    sa.Column("tax", sa.Numeric(14, 2), nullable=True),
    sa.Column("original_filename", sa.String(255), nullable=True),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("path", sa.String(1000), nullable=False, comment="relative to the inbox folder"),
    sa.Column("fetched_at", _ts, nullable=False),
    sa.UniqueConstraint("sha256", name="uq_documents_sha256"),
    # A stable id is unique within its connection; the connector name is part
    # of the key so that the row survives its connection being deleted.
    sa.UniqueConstraint("connection_id", "stable_id", name="uq_documents_connection_stable_id"),
)
sa.Index("ix_documents_connection", documents.c.connection_id)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("connection_id", sa.Integer, sa.ForeignKey("connections.id", ondelete="CASCADE"), nullable=False),
    sa.Column("trigger", sa.String(16), nullable=False, comment="scheduled | forced"),
    sa.Column("full", sa.Boolean, nullable=False),
    sa.Column("started_at", _ts, nullable=False),
    sa.Column("finished_at", _ts, nullable=True),
    sa.Column("outcome", sa.String(40), nullable=True, comment="the status the run ended in"),
    sa.Column("message", sa.Text, nullable=False, server_default=""),
    sa.Column("documents_new", sa.Integer, nullable=False, server_default="0"),
    sa.Column("documents_seen", sa.Integer, nullable=False, server_default="0"),
    sa.Column("requests", sa.Integer, nullable=False, server_default="0"),
    sa.Column("bytes", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("saved_page", sa.String(1000), nullable=True, comment="page kept for the maintainer"),
)
sa.Index("ix_runs_connection", runs.c.connection_id, runs.c.started_at)

challenges = sa.Table(
    "challenges",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("connection_id", sa.Integer, sa.ForeignKey("connections.id", ondelete="CASCADE"), nullable=False),
    sa.Column("medium", sa.String(10), nullable=False),
    sa.Column("prompt", sa.Text, nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("expires_at", _ts, nullable=True),
    sa.Column("state", sa.String(16), nullable=False, comment="pending | submitted | used | expired"),
    sa.Column("code_ciphertext", sa.LargeBinary, nullable=True, comment="submitted code, vault-encrypted"),
)
sa.Index("ix_challenges_connection", challenges.c.connection_id, challenges.c.state)
