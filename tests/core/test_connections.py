from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from dextcore.connections import ConnectionError, InvitationError, credential_warnings
from dextcore.records import DocumentRef, Downloaded
from dextcore.statuses import Status
from dextcore.store import schema

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _create(app, **kw):
    args = dict(
        connector="toy",
        owner="ann@example.com",
        created_by="ann@example.com",
        username="ann@example.com",
        password="s3cret-Pa55",
    )
    args.update(kw)
    return app.connections.create(**args)


def test_create_stores_secrets_only_in_the_vault(app, store):
    created = _create(app, variant="de", fields={"account_number": "123", "totp_secret": "jbsw y3dp ehpk 3pxp"}, history_from=dt.date(2024, 1, 1))
    c = created.connection
    assert (c.connector, c.variant, c.status, c.history_from) == ("toy", "de", Status.CONNECTING, dt.date(2024, 1, 1))
    assert c.fields == {"account_number": "123"}
    assert c.next_run_at is not None
    assert app.connections.secret(c.id, "password") == "s3cret-Pa55"
    # Authenticator secrets are shown in groups; the spaces are not part of them.
    assert app.connections.secret(c.id, "totp_secret") == "JBSWY3DPEHPK3PXP"
    with store.connect() as conn:
        dump = repr(conn.execute(sa.select(schema.connections)).fetchall()) + repr(
            conn.execute(sa.select(schema.secrets)).fetchall()
        )
    assert "s3cret-Pa55" not in dump and "JBSWY3DPEHPK3PXP" not in dump
    assert "s3cret" not in repr(c)


def test_default_variant_and_validation_errors(app):
    assert _create(app).connection.variant == "uk"
    with pytest.raises(KeyError, match="no variant 'fr'"):
        _create(app, variant="fr")
    with pytest.raises(ConnectionError, match="no field 'colour'"):
        _create(app, fields={"colour": "red"})
    with pytest.raises(ConnectionError, match="not a valid authenticator secret"):
        _create(app, fields={"totp_secret": "not base32 !!"})
    with pytest.raises(ConnectionError, match="unknown timezone"):
        _create(app, timezone="Mars/Olympus")
    with pytest.raises(ConnectionError, match="password is required"):
        _create(app, password="")


def test_entry_hygiene_warns_and_never_alters_the_password(app):
    created = _create(app, username=" Ann@Example.com", password="pa55 ")
    warnings = " ".join(created.warnings)
    assert "starts or ends with a space" in warnings
    assert "capital letters" in warnings
    assert "pa55" not in warnings
    assert app.connections.secret(created.connection.id, "password") == "pa55 "
    assert credential_warnings("ann@example.com", "fine") == ()


def test_invitation_is_one_time_and_expires(app, alert_log):
    invitation = app.connections.invite(connector="toy", owner="ann@example.com", created_by="bob@example.com", email="client@example.com")
    assert invitation.connection.status is Status.AWAITING_CLIENT
    assert invitation.connection.next_run_at is None
    created = app.connections.accept(invitation.token, username="client@example.com", password="pw")
    assert created.connection.status is Status.CONNECTING
    assert created.connection.next_run_at is not None
    assert app.connections.secret(created.connection.id, "password") == "pw"
    # The creator hears that the client connected.
    assert any(r == "bob@example.com" and "client has connected" in s for r, s, _ in alert_log.alerts)
    with pytest.raises(InvitationError, match="already been used"):
        app.connections.accept(invitation.token, username="x", password="y")
    expired = app.connections.invite(connector="toy", owner="a@x.com", created_by="a@x.com", lifetime=dt.timedelta(seconds=-1))
    with pytest.raises(InvitationError, match="expired"):
        app.connections.accept(expired.token, username="x", password="y")
    with pytest.raises(InvitationError, match="not valid"):
        app.connections.accept("made-up", username="x", password="y")


def test_edit_credentials_drops_the_saved_session_and_schedules_a_fetch(app):
    c = _create(app).connection
    app.connections.set_status(c.id, Status.INCORRECT_CREDENTIALS, "Your password is incorrect")
    app.vault.put("connection", c.id, "session", b"cookies")
    created = app.connections.edit(c.id, password="new-pass", timezone="Europe/London", history_from=None)
    after = created.connection
    assert app.connections.secret(c.id, "password") == "new-pass"
    assert app.vault.get_bytes("connection", c.id, "session") is None
    assert after.status is Status.CONNECTING
    assert after.timezone == "Europe/London"


def test_status_changes_are_recorded_and_alert_once(app, alert_log):
    c = _create(app, notify="ops@example.com").connection
    assert app.connections.set_status(c.id, Status.INCORRECT_CREDENTIALS, "Your password is incorrect")
    assert not app.connections.set_status(c.id, Status.INCORRECT_CREDENTIALS, "Your password is incorrect")
    alerts = [a for a in alert_log.alerts if a[0] == "ops@example.com"]
    assert len(alerts) == 1
    assert "Incorrect login credentials" in alerts[0][1]
    assert "s3cret-Pa55" not in alerts[0][2]
    history = app.connections.history(c.id)
    assert [(h.old, h.new) for h in history] == [(None, Status.CONNECTING), (Status.CONNECTING, Status.INCORRECT_CREDENTIALS)]
    assert history[-1].reason == "Your password is incorrect"
    assert alert_log.statuses[-1][1:3] == (Status.CONNECTING, Status.INCORRECT_CREDENTIALS)


def test_a_run_ending_where_it_began_sends_no_alert(app, alert_log):
    c = _create(app).connection
    app.connections.set_status(c.id, Status.CONNECTED)
    before = len(alert_log.alerts)
    app.connections.set_status(c.id, Status.CONNECTING, "forced fetch")
    app.connections.set_status(c.id, Status.CONNECTED)
    assert len(alert_log.alerts) == before
    app.connections.set_status(c.id, Status.CONNECTING)
    app.connections.set_status(c.id, Status.BLOCKED, "captcha")
    assert len(alert_log.alerts) == before + 1


def test_needing_attention_lists_only_statuses_a_person_must_act_on(app):
    ok = _create(app).connection
    bad = _create(app, username="bob").connection
    down = _create(app, username="carl").connection
    app.connections.set_status(ok.id, Status.CONNECTED)
    app.connections.set_status(bad.id, Status.SSO_NOT_SUPPORTED)
    app.connections.set_status(down.id, Status.PORTAL_UNAVAILABLE)
    assert [c.id for c in app.connections.list(needing_attention=True)] == [bad.id]
    rows = {r["id"]: r for r in app.table()}
    assert rows[bad.id]["needs_attention"] is True
    assert rows[bad.id]["status_label"] == "SSO not supported"


def test_change_notify_user(app):
    c = _create(app).connection
    assert app.connections.set_notify(c.id, "boss@example.com").notify == "boss@example.com"


def test_delete_keeps_documents(app):
    c = _create(app).connection
    ref = DocumentRef(stable_id="order-1", number="INV-1", total="12.00", currency="GBP", supplier="Toy Ltd")
    accepted = app.inbox.accept(connection_id=c.id, connector="toy", owner=c.owner, direction="cost", ref=ref, file=Downloaded(PDF, "a.pdf"))
    assert accepted.new
    app.connections.delete(c.id)
    with pytest.raises(ConnectionError):
        app.connections.get(c.id)
    (doc,) = app.inbox.list()
    assert doc.number == "INV-1" and doc.connection_id is None
    assert doc.path.read_bytes() == PDF
    assert app.vault.get("connection", c.id, "password") is None


def test_schedule_interval_and_window(app):
    c = _create(app, timezone="Europe/London").connection
    changed = app.connections.set_schedule(c.id, interval=dt.timedelta(days=3), window={"weekdays": [4, 0, 1], "hours": [8, 18]})
    assert changed.interval_seconds == 3 * 24 * 3600
    assert changed.window == {"weekdays": [0, 1, 4], "hours": [8, 18]}
    # The first fetch stays due now.
    assert changed.next_run_at == c.next_run_at
    assert app.connections.set_schedule(c.id, window=None).window is None
    with pytest.raises(ConnectionError, match="at most once an hour"):
        app.connections.set_schedule(c.id, interval=dt.timedelta(minutes=5))
    with pytest.raises(ConnectionError, match="window hours"):
        app.connections.set_schedule(c.id, window={"hours": [18, 8]})
