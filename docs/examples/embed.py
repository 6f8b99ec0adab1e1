"""Embedding dextcore in an application.

An accounting firm's web app lets its staff connect supplier portals and
invite clients to enter their own credentials. dextcore keeps the
connections, secrets and statuses; the app receives dextcore's events in
its own notification feed instead of e-mail.

Run it with an installed supplier connector, in a scratch data folder::

    DEXTCORE_HOME=/tmp/dextcore-example python docs/examples/embed.py amazon_uk

tests/docs/test_embed_example.py runs this file as it is.
"""

from __future__ import annotations

import sys

from dextcore import Dextcore, FieldType, hookimpl

STAFF = "ann@bookkeeping.example"
CLIENT = "bob@client.example"
# What people typed into the app's forms. A real app passes them straight
# from the request to dextcore and never logs or stores them itself.
STAFF_LOGIN = ("orders@bookkeeping.example", "S3cret-Portal-Pass")
CLIENT_LOGIN = ("bob@client.example", "B0b's-0wn-Pass")
AUTHENTICATOR_SECRET = "JBSW Y3DP EHPK 3PXP"  # as authenticator apps show it


class AppNotifications:
    """The app's side of dextcore's event hooks: one feed entry per event."""

    def __init__(self) -> None:
        self.feed: list[str] = []

    @hookimpl
    def status_changed(self, connection, old, new, reason):
        before = old.label if old is not None else "new"
        self.feed.append(f"connection {connection.id} ({connection.connector.label}): {before} -> {new.label}")

    @hookimpl
    def document_collected(self, connection, document):
        self.feed.append(f"connection {connection.id}: new {document.kind.value} {document.number} ({document.path.name})")

    @hookimpl
    def alert(self, recipient, subject, body, connection):
        self.feed.append(f"alert for {recipient}: {subject}")
        return True  # delivered in the app: dextcore sends no e-mail


def main(connector_name: str) -> int:
    notifications = AppNotifications()
    # Reads DEXTCORE_* from the environment, creates and migrates the store,
    # loads the installed plugins and registers the app's hook object.
    with Dextcore.open(plugins=[notifications]) as app:
        app.add_user(STAFF, name="Ann", role="admin")
        connector = app.host.connector(connector_name)

        # 1. Staff connect a portal with credentials they hold. The app's form
        #    shows the connector's fields; secret ones go to the vault.
        totp_fields = [f.name for f in connector.fields if f.type is FieldType.TOTP_SECRET]
        username, password = STAFF_LOGIN
        created = app.connections.create(
            connector=connector.name, owner=STAFF, created_by=STAFF, username=username, password=password,
            fields={name: AUTHENTICATOR_SECRET for name in totp_fields},
        )
        for warning in created.warnings:
            print("warning:", warning)
        print(f"created connection {created.connection.id}: {created.connection.status.label}")

        # 2. Staff ask a client to connect; the app e-mails the token as a link.
        invitation = app.connections.invite(connector=connector.name, owner=CLIENT, created_by=STAFF, email=CLIENT)
        print(f"invited {CLIENT} to connection {invitation.connection.id}, "
              f"valid until {invitation.expires_at:%Y-%m-%d}")

        # 3. The client opens the link and types their credentials.
        username, password = CLIENT_LOGIN
        accepted = app.connections.accept(invitation.token, username=username, password=password)
        print(f"client connected connection {accepted.connection.id}: {accepted.connection.status.label}")

        # 4. The Invoice Fetch table, as the app's dashboard shows it.
        print()
        print(f"{'ID':<4}{'Supplier':<28}{'Connected as':<30}{'Status':<34}Notify")
        for row in app.table():
            print(f"{row['id']:<4}{row['supplier']:<28}{row['connected_as'] or '-':<30}"
                  f"{row['status_label']:<34}{row['notify']}")

        # 5. One connection in detail, with its status history.
        shown = app.connections.get(accepted.connection.id)
        print()
        print(f"connection {shown.id}: {app.row(shown)['supplier']} as {shown.username}, owner {shown.owner}")
        print(f"  status: {shown.status.label} ({shown.status_reason})")
        print(f"  next run: {shown.next_run_at:%Y-%m-%d %H:%M} UTC")
        for change in app.connections.history(shown.id):
            before = change.old.label if change.old else "-"
            print(f"  {change.at:%Y-%m-%d %H:%M}  {before} -> {change.new.label}: {change.reason}")

        # The app's feed, filled by the hooks above.
        print()
        for entry in notifications.feed:
            print("feed:", entry)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: embed.py CONNECTOR  (see `dextcore plugins`)")
    sys.exit(main(sys.argv[1]))
