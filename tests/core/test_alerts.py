"""Alerts: the ``alert`` hook, e-mail through a real SMTP server, the messages."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
from typing import Any, Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from dextcore.alerts import Alerter, status_message
from dextcore.config import SmtpConfig
from dextcore.hookspecs import hookimpl
from dextcore.plugins import PluginHost
from dextcore.portal.session import ConnectionView
from dextcore.records import Connector, ConnectorKind, Variant
from dextcore.statuses import Status

SMTP_PASSWORD = "smtp-pa55-word"


class Collector:
    """aiosmtpd handler keeping every delivered message; tests wait on it."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self._changed = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._changed:
            self.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
            self._changed.notify_all()
        return "250 Message accepted"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[list[str], email.message.EmailMessage]]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)


class LoopbackController(Controller):
    """A Controller on a port the OS picked: the socket is bound first and
    handed to the server, so no other process can take the port between."""

    def __init__(self, handler: Any, **kwargs: Any) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        super().__init__(handler, hostname="127.0.0.1", port=self._sock.getsockname()[1], **kwargs)

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


@pytest.fixture
def smtp_server() -> Iterator[tuple[LoopbackController, Collector]]:
    collector = Collector()
    controller = LoopbackController(collector)
    controller.start()
    try:
        yield controller, collector
    finally:
        controller.stop()


def text_of(message: email.message.EmailMessage) -> str:
    """The body as sent (SMTP carries CRLF line ends)."""
    return message.get_content().replace("\r\n", "\n")


def smtp_config(controller: Controller, **kwargs: Any) -> SmtpConfig:
    return SmtpConfig(host="127.0.0.1", port=controller.port, sender="alerts@dextcore.test", **kwargs)


AMAZON = Connector(
    name="amazon_uk",
    label="Amazon",
    kind=ConnectorKind.SUPPLIER,
    implementation=object(),
    variants=(
        Variant("uk", "Amazon UK (amazon.co.uk)", "https://www.amazon.co.uk", default=True,
                hint="Amazon Business accounts sign in on the same page; make sure this is the UK store."),
        Variant("de", "Amazon Germany (amazon.de)", "https://www.amazon.de"),
    ),
)
VIEW = ConnectionView(id=12, connector=AMAZON, variant=AMAZON.variants[0], username="buyer@example.com")


class AlertPlugin:
    """An app's chat integration: takes every alert, or none."""

    def __init__(self, deliver: bool | None) -> None:
        self.deliver = deliver
        self.calls: list[dict[str, Any]] = []

    @hookimpl
    def alert(self, recipient: str, subject: str, body: str, connection: ConnectionView | None) -> bool | None:
        self.calls.append(dict(recipient=recipient, subject=subject, body=body, connection=connection))
        return self.deliver


def test_email_is_sent_once_per_alert(smtp_server: tuple[LoopbackController, Collector]) -> None:
    controller, collector = smtp_server
    alerter = Alerter(smtp_config(controller), PluginHost(load_entry_points=False))

    assert alerter.send("owner@example.com", "Subject one", "Body one\n", VIEW) == "email"
    messages = collector.wait_for(1)
    assert len(messages) == 1
    rcpts, message = messages[0]
    assert rcpts == ["owner@example.com"]
    assert message["From"] == "alerts@dextcore.test"
    assert message["To"] == "owner@example.com"
    assert message["Subject"] == "Subject one"
    assert message["Auto-Submitted"] == "auto-generated"
    assert text_of(message) == "Body one\n"

    assert alerter.send("owner@example.com", "Subject two", "Body two\n") == "email"
    assert [m["Subject"] for _, m in collector.wait_for(2)] == ["Subject one", "Subject two"]


def test_alert_hook_suppresses_the_email(smtp_server: tuple[LoopbackController, Collector]) -> None:
    controller, collector = smtp_server
    plugin = AlertPlugin(deliver=True)
    alerter = Alerter(smtp_config(controller), PluginHost(load_entry_points=False, plugins=[plugin]))

    assert alerter.send("owner@example.com", "Hooked", "Body", VIEW) == "hook"
    assert plugin.calls == [dict(recipient="owner@example.com", subject="Hooked", body="Body", connection=VIEW)]
    # A later e-mail arrives alone: the hooked alert never reached the server.
    alerter_without_hook = Alerter(smtp_config(controller), PluginHost(load_entry_points=False))
    assert alerter_without_hook.send("owner@example.com", "Marker", "Body") == "email"
    assert [m["Subject"] for _, m in collector.wait_for(1)] == ["Marker"]


def test_hook_that_declines_or_fails_falls_back_to_email(smtp_server: tuple[LoopbackController, Collector],
                                                          caplog: pytest.LogCaptureFixture) -> None:
    controller, collector = smtp_server
    declining = AlertPlugin(deliver=None)

    class Broken:
        @hookimpl
        def alert(self, recipient: str, subject: str, body: str, connection: ConnectionView | None) -> bool:
            raise RuntimeError("chat service down")

    assert Alerter(smtp_config(controller), PluginHost(load_entry_points=False, plugins=[declining])) \
        .send("a@example.com", "Declined", "Body") == "email"
    assert len(declining.calls) == 1
    assert Alerter(smtp_config(controller), PluginHost(load_entry_points=False, plugins=[Broken()])) \
        .send("b@example.com", "Broken hook", "Body") == "email"
    assert [(r, m["Subject"]) for r, m in collector.wait_for(2)] == [
        (["a@example.com"], "Declined"), (["b@example.com"], "Broken hook")]
    assert "alert hook failed" in caplog.text


def test_smtp_login(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == SMTP_PASSWORD.encode(), handled=False)

    collector = Collector()
    controller = LoopbackController(collector, authenticator=authenticator, auth_require_tls=False)
    controller.start()
    try:
        good = Alerter(smtp_config(controller, user="mailer", password=SMTP_PASSWORD), PluginHost(load_entry_points=False))
        assert good.send("owner@example.com", "Logged in", "Body") == "email"
        assert [m["Subject"] for _, m in collector.wait_for(1)] == ["Logged in"]
        assert seen == [(b"mailer", SMTP_PASSWORD.encode())]

        caplog.set_level(logging.DEBUG)
        bad = Alerter(smtp_config(controller, user="mailer", password="wrong-" + SMTP_PASSWORD),
                      PluginHost(load_entry_points=False))
        assert bad.send("owner@example.com", "Refused", "Body") == "failed"
        assert len(collector.messages) == 1
        assert "refused the SMTP login (code 535)" in caplog.text
        assert SMTP_PASSWORD not in caplog.text
        assert SMTP_PASSWORD not in repr(bad) and SMTP_PASSWORD not in repr(bad.smtp)
    finally:
        controller.stop()


def test_unreachable_server_fails_without_raising(caplog: pytest.LogCaptureFixture) -> None:
    # A bound socket that does not listen: connections to it are refused.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        config = SmtpConfig(host="127.0.0.1", port=closed.getsockname()[1], user="u", password=SMTP_PASSWORD)
        result = Alerter(config, PluginHost(load_entry_points=False), timeout=5).send("o@example.com", "S", "B")
    assert result == "failed"
    assert "could not e-mail alert to o@example.com" in caplog.text
    assert SMTP_PASSWORD not in caplog.text


def test_header_injection_is_neutralised(smtp_server: tuple[LoopbackController, Collector]) -> None:
    controller, collector = smtp_server
    alerter = Alerter(smtp_config(controller), PluginHost(load_entry_points=False))
    assert alerter.send("owner@example.com", "Hi\r\nBcc: thief@evil.test", "Body") == "email"
    rcpts, message = collector.wait_for(1)[0]
    assert rcpts == ["owner@example.com"]
    assert message["Bcc"] is None and message["Subject"] == "Hi Bcc: thief@evil.test"
    assert alerter.send("owner@example.com\r\nthief@evil.test", "S", "B") == "failed"
    assert len(collector.messages) == 1


def test_status_message_for_incorrect_credentials() -> None:
    subject, body = status_message(VIEW, Status.CONNECTED, Status.INCORRECT_CREDENTIALS,
                                   "The portal said: Your password is incorrect")
    assert subject == "[dextcore] Amazon (amazon.co.uk) — Incorrect login credentials"
    assert "connected as buyer@example.com" in body and "connection 12" in body
    assert "from “Connected” to “Incorrect login credentials”" in body
    assert "Reason: The portal said: Your password is incorrect" in body
    assert Status.INCORRECT_CREDENTIALS.hint in body
    assert "Amazon Business accounts sign in on the same page" in body  # the variant's hint
    assert "uses the variant “Amazon UK (amazon.co.uk)”" in body
    assert "Other variants of this supplier: Amazon Germany (amazon.de)." in body


def test_status_message_for_other_statuses() -> None:
    subject, body = status_message(VIEW, None, Status.ADDITIONAL_INFO_REQUIRED, "")
    assert subject == "[dextcore] Amazon (amazon.co.uk) — Additional information required"
    assert "is now “Additional information required”" in body
    assert "Reason" not in body
    assert Status.ADDITIONAL_INFO_REQUIRED.hint in body
    assert "variant" not in body

    _, body = status_message(VIEW, Status.INCORRECT_CREDENTIALS, Status.CONNECTED, "logged in")
    assert "Nothing: the connection works" in body


def test_status_message_delivered_through_smtp(smtp_server: tuple[LoopbackController, Collector]) -> None:
    controller, collector = smtp_server
    subject, body = status_message(VIEW, Status.CONNECTED, Status.INCORRECT_CREDENTIALS, "rejected")
    alerter = Alerter(smtp_config(controller), PluginHost(load_entry_points=False))
    assert alerter.send("owner@example.com", subject, body, VIEW) == "email"
    _, message = collector.wait_for(1)[0]
    assert message["Subject"] == subject
    assert text_of(message) == body
