"""The vault: sealing, row binding, wrong keys, key files and rotation."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import attrs
import pytest
import sqlalchemy as sa

import dextcore.vault as vault_module
from dextcore.config import Config
from dextcore.store import Store, schema, utcnow
from dextcore.vault import Vault, VaultError, challenge_code_context, generate_key, key_id

PASSWORD = "hunter2-Sesame!"


def _ciphertext(store: Store, scope: str, owner_id: int, name: str) -> bytes:
    t = schema.secrets
    with store.begin() as conn:
        return bytes(conn.execute(sa.select(t.c.ciphertext).where(
            t.c.scope == scope, t.c.owner_id == owner_id, t.c.name == name)).scalar_one())


def _all_ciphertexts(store: Store) -> dict[tuple[str, int, str], bytes]:
    t = schema.secrets
    with store.begin() as conn:
        rows = conn.execute(sa.select(t.c.scope, t.c.owner_id, t.c.name, t.c.ciphertext)).all()
    return {(s, o, n): bytes(c) for s, o, n, c in rows}


def _set_ciphertext(store: Store, scope: str, owner_id: int, name: str, token: bytes) -> None:
    t = schema.secrets
    with store.begin() as conn:
        conn.execute(t.update().where(t.c.scope == scope, t.c.owner_id == owner_id, t.c.name == name)
                     .values(ciphertext=token))


def _key_in_file(path: Path) -> bytes:
    return base64.urlsafe_b64decode(path.read_text().strip())


def test_put_get_names_delete(vault: Vault) -> None:
    assert vault.get("connection", 1, "password") is None
    vault.put("connection", 1, "password", PASSWORD)
    vault.put("connection", 1, "session", b"\x00\xffcookie-jar")
    vault.put("connection", 2, "password", "other")
    assert vault.get("connection", 1, "password") == PASSWORD
    assert vault.get_bytes("connection", 1, "session") == b"\x00\xffcookie-jar"
    assert vault.names("connection", 1) == {"password", "session"}
    assert vault.names("accounting", 1) == set()

    vault.put("connection", 1, "password", "changed")
    assert vault.get("connection", 1, "password") == "changed"

    vault.delete("connection", 1, "session")
    assert vault.names("connection", 1) == {"password"}
    vault.delete("connection", 1)
    assert vault.names("connection", 1) == set()
    assert vault.get("connection", 2, "password") == "other"


def test_database_holds_no_plaintext_and_each_seal_is_fresh(vault: Vault, store: Store, config: Config) -> None:
    vault.put("connection", 1, "password", PASSWORD)
    first = _ciphertext(store, "connection", 1, "password")
    vault.put("connection", 1, "password", PASSWORD)
    second = _ciphertext(store, "connection", 1, "password")
    assert PASSWORD.encode() not in first
    assert first != second  # a fresh nonce every time
    assert first[1:9] == key_id(_key_in_file(config.key_file))


def test_key_file_is_created_0600_and_reused(config: Config, store: Store) -> None:
    assert not config.key_file.exists()
    first = Vault.from_config(config, store)
    assert stat.S_IMODE(config.key_file.stat().st_mode) == 0o600
    assert len(_key_in_file(config.key_file)) == 32
    first.put("connection", 7, "password", PASSWORD)
    second = Vault.from_config(config, store)
    assert second.get("connection", 7, "password") == PASSWORD
    assert second.key_id == first.key_id


def test_missing_key_file_with_existing_secrets_is_refused(config: Config, store: Store) -> None:
    Vault.from_config(config, store).put("connection", 3, "password", PASSWORD)
    config.key_file.unlink()
    with pytest.raises(VaultError, match="key file .* is missing but the database holds 1 encrypted"):
        Vault.from_config(config, store)
    assert not config.key_file.exists()  # no new key silently replaced the lost one


def test_ciphertext_moved_to_another_row_fails(vault: Vault, store: Store) -> None:
    vault.put("connection", 12, "password", PASSWORD)
    vault.put("connection", 13, "password", "theirs")
    _set_ciphertext(store, "connection", 13, "password", _ciphertext(store, "connection", 12, "password"))
    with pytest.raises(VaultError) as caught:
        vault.get("connection", 13, "password")
    message = str(caught.value)
    assert "the password of connection 13" in message
    assert "another row" in message
    assert PASSWORD not in message


def test_tampered_value_fails_and_names_owner(vault: Vault, store: Store) -> None:
    vault.put("connection", 12, "totp_secret", "JBSWY3DPEHPK3PXP")
    token = bytearray(_ciphertext(store, "connection", 12, "totp_secret"))
    token[-1] ^= 0x01
    _set_ciphertext(store, "connection", 12, "totp_secret", bytes(token))
    with pytest.raises(VaultError, match="cannot decrypt the totp secret of connection 12: the value was altered"):
        vault.get("connection", 12, "totp_secret")
    _set_ciphertext(store, "connection", 12, "totp_secret", b"not a token")
    with pytest.raises(VaultError, match="not a vault ciphertext"):
        vault.get("connection", 12, "totp_secret")


def test_wrong_key_is_reported_as_another_key(config: Config, store: Store) -> None:
    Vault.from_config(config, store).put("connection", 12, "password", PASSWORD)
    other_key = generate_key()
    other = Vault.from_config(attrs.evolve(config, secret_key=other_key), store)
    with pytest.raises(VaultError) as caught:
        other.get("connection", 12, "password")
    message = str(caught.value)
    assert message.startswith("cannot decrypt the password of connection 12: it was encrypted with another key")
    assert other_key not in message and PASSWORD not in message
    # nothing was overwritten: the right key still reads it
    assert Vault.from_config(config, store).get("connection", 12, "password") == PASSWORD


def test_secret_key_from_environment(config: Config, store: Store) -> None:
    key = generate_key()
    env_config = Config.from_env({"DEXTCORE_SECRET_KEY": key}, home=config.home, key_file=config.key_file)
    vault = Vault.from_config(env_config, store)
    vault.put("accounting", 1, "refresh_token", "rt-1")
    assert not config.key_file.exists()  # the environment key wins; no file is made
    assert Vault.from_config(env_config, store).get("accounting", 1, "refresh_token") == "rt-1"
    assert vault.key_id == key_id(base64.urlsafe_b64decode(key)).hex()


def test_malformed_secret_key_is_not_echoed(config: Config, store: Store) -> None:
    bad = "c2VjcmV0LWJ1dC10b28tc2hvcnQ="
    with pytest.raises(VaultError, match="DEXTCORE_SECRET_KEY is not a vault key") as caught:
        Vault.from_config(attrs.evolve(config, secret_key=bad), store)
    assert bad not in str(caught.value)


def test_repr_reveals_no_key(config: Config, store: Store) -> None:
    key = generate_key()
    vault = Vault.from_config(attrs.evolve(config, secret_key=key), store)
    for text in (repr(vault), str(vault), repr(attrs.evolve(config, secret_key=key))):
        assert key not in text
        assert base64.urlsafe_b64decode(key).hex() not in text
    assert "DEXTCORE_SECRET_KEY" in repr(vault)


def test_encrypt_decrypt_with_context(vault: Vault) -> None:
    token = vault.encrypt(b"123456", context=challenge_code_context(4))
    assert vault.decrypt(token, context=challenge_code_context(4)) == b"123456"
    with pytest.raises(VaultError, match="challenge:5:code"):
        vault.decrypt(token, context=challenge_code_context(5))


def _add_challenge(store: Store, vault: Vault, connection_id: int, code: str) -> int:
    now = utcnow()
    with store.begin() as conn:
        challenge_id = conn.execute(schema.challenges.insert().values(
            connection_id=connection_id, medium="sms", prompt="Enter the code", created_at=now,
            state="submitted")).inserted_primary_key[0]
        conn.execute(schema.challenges.update().where(schema.challenges.c.id == challenge_id).values(
            code_ciphertext=vault.encrypt(code.encode(), context=challenge_code_context(challenge_id))))
    return challenge_id


def _challenge_token(store: Store, challenge_id: int) -> bytes:
    t = schema.challenges
    with store.begin() as conn:
        return bytes(conn.execute(sa.select(t.c.code_ciphertext).where(t.c.id == challenge_id)).scalar_one())


def test_rotate_with_key_file(config: Config, store: Store, new_connection) -> None:  # type: ignore[no-untyped-def]
    vault = Vault.from_config(config, store)
    old_key = config.key_file.read_text().strip()
    vault.put("connection", 1, "password", PASSWORD)
    vault.put("connection", 1, "session", b"cookies")
    vault.put("accounting", 2, "token", "tok")
    challenge_id = _add_challenge(store, vault, new_connection(), "654321")

    assert vault.rotate() == 4

    new_key = config.key_file.read_text().strip()
    assert new_key != old_key
    assert stat.S_IMODE(config.key_file.stat().st_mode) == 0o600
    assert not Path(str(config.key_file) + ".new").exists()
    new_id = key_id(base64.urlsafe_b64decode(new_key))
    assert all(token[1:9] == new_id for token in _all_ciphertexts(store).values())
    assert _challenge_token(store, challenge_id)[1:9] == new_id

    reopened = Vault.from_config(config, store)
    assert reopened.get("connection", 1, "password") == PASSWORD
    assert reopened.get_bytes("connection", 1, "session") == b"cookies"
    assert reopened.decrypt(_challenge_token(store, challenge_id),
                            context=challenge_code_context(challenge_id)) == b"654321"
    assert vault.get("accounting", 2, "token") == "tok"  # the rotating vault moved on too

    with pytest.raises(VaultError, match="encrypted with another key"):
        Vault.from_config(attrs.evolve(config, secret_key=old_key), store).get("connection", 1, "password")


def test_rotate_aborts_on_an_unreadable_row_and_changes_nothing(config: Config, store: Store) -> None:
    vault = Vault.from_config(config, store)
    vault.put("connection", 1, "password", PASSWORD)
    vault.put("connection", 2, "password", "two")
    token = bytearray(_ciphertext(store, "connection", 2, "password"))
    token[-3] ^= 0x40
    _set_ciphertext(store, "connection", 2, "password", bytes(token))
    before = _all_ciphertexts(store)
    key_before = config.key_file.read_bytes()

    with pytest.raises(VaultError, match="the password of connection 2"):
        vault.rotate()

    assert _all_ciphertexts(store) == before
    assert config.key_file.read_bytes() == key_before
    assert not Path(str(config.key_file) + ".new").exists()
    assert vault.get("connection", 1, "password") == PASSWORD


def test_crash_between_commit_and_key_file_replace(config: Config, store: Store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    vault = Vault.from_config(config, store)
    vault.put("connection", 1, "password", PASSWORD)
    old_key = config.key_file.read_bytes()
    pending = Path(str(config.key_file) + ".new")
    real_replace = os.replace

    class Crash(BaseException):
        pass

    def crashing_replace(src, dst):  # type: ignore[no-untyped-def]
        if Path(dst) == config.key_file:
            raise Crash()
        return real_replace(src, dst)

    monkeypatch.setattr(vault_module.os, "replace", crashing_replace)
    with pytest.raises(Crash):
        vault.rotate()
    monkeypatch.setattr(vault_module.os, "replace", real_replace)

    # The transaction committed under the new key, the key file still holds the old one.
    assert config.key_file.read_bytes() == old_key
    assert pending.exists()
    new_id = key_id(_key_in_file(pending))
    assert _ciphertext(store, "connection", 1, "password")[1:9] == new_id
    new_key_text = pending.read_bytes()

    recovered = Vault.from_config(config, store)
    assert recovered.get("connection", 1, "password") == PASSWORD
    # Opening finished the rotation: the key file now holds the new key.
    assert config.key_file.read_bytes() == new_key_text
    assert not pending.exists()
    assert stat.S_IMODE(config.key_file.stat().st_mode) == 0o600
    assert Vault.from_config(config, store).get("connection", 1, "password") == PASSWORD


def test_crash_before_commit_leaves_old_key_working(config: Config, store: Store) -> None:
    vault = Vault.from_config(config, store)
    vault.put("connection", 1, "password", PASSWORD)
    old_key = config.key_file.read_bytes()
    # A rotation killed after writing <key_file>.new, before its transaction committed.
    pending = Path(str(config.key_file) + ".new")
    fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, generate_key().encode() + b"\n")
    os.close(fd)

    reopened = Vault.from_config(config, store)
    assert reopened.get("connection", 1, "password") == PASSWORD
    assert config.key_file.read_bytes() == old_key  # nothing committed under the new key: keep the old one
    assert pending.exists()

    # A later rotation replaces the abandoned pending key and completes.
    assert reopened.rotate() == 1
    assert not pending.exists()
    assert config.key_file.read_bytes() != old_key
    assert Vault.from_config(config, store).get("connection", 1, "password") == PASSWORD


def test_rotate_with_environment_key(config: Config, store: Store) -> None:
    old_key = generate_key()
    vault = Vault.from_config(attrs.evolve(config, secret_key=old_key), store)
    vault.put("connection", 9, "password", PASSWORD)
    with pytest.raises(VaultError, match="DEXTCORE_SECRET_KEY: pass the new key"):
        vault.rotate()
    with pytest.raises(VaultError, match="the new key is the current key"):
        vault.rotate(old_key)
    new_key = generate_key()
    assert vault.rotate(new_key) == 1
    assert not config.key_file.exists()
    assert Vault.from_config(attrs.evolve(config, secret_key=new_key), store).get("connection", 9, "password") == PASSWORD
    with pytest.raises(VaultError, match="another key"):
        Vault.from_config(attrs.evolve(config, secret_key=old_key), store).get("connection", 9, "password")


def test_concurrent_first_use_agrees_on_one_key(config: Config, store: Store) -> None:
    import threading

    start = threading.Barrier(4)
    vaults: list[Vault] = []
    errors: list[BaseException] = []

    def open_vault() -> None:
        try:
            start.wait(timeout=10)
            vaults.append(Vault.from_config(config, store))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_vault) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == [] and len(vaults) == 4
    assert {v.key_id for v in vaults} == {key_id(_key_in_file(config.key_file)).hex()}
    assert [p.name for p in config.key_file.parent.iterdir()] == [config.key_file.name]  # no temp files left
