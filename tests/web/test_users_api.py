"""Accounts through the real app and database: logout, password change and the forced change of
a given password, the password rule, user administration, throttling and bounded hashing.

The center's seeded users serve every test module: these tests make users of their own (through
the admin API) for whatever they lock, disable, reset or log out.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2 as httpx
import pytest
from center import Center
from sqlalchemy import update

from jiaoxun.db import transaction
from jiaoxun.users import login as login_module
from jiaoxun.users.models import ApiToken, User

RULE = "password must be changed before anything else"


def _login(center: Center, username: str, password: str) -> httpx.Response:
    return center.client.post("/api/auth/token", json={"username": username, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _create(center: Center, role: str = "dispatcher", **placement: int) -> dict[str, Any]:
    """A new account made by the admin: {"user": …, "password": first password}."""
    body = {"username": f"u{uuid.uuid4().hex[:10]}", "role": role, **placement}
    reply = center.call("POST", "/api/users", user="admin", json=body)
    assert reply.status_code == 201, reply.text
    made: dict[str, Any] = reply.json()
    return made


def _change(center: Center, token: str, current: str, new: str) -> httpx.Response:
    return center.client.post(
        "/api/auth/password",
        json={"current_password": current, "new_password": new},
        headers=_bearer(token),
    )


def _own_user(center: Center, role: str = "dispatcher") -> tuple[dict[str, Any], str]:
    """A new account whose password is his own already: (user, password)."""
    made = _create(center, role)
    first = _login(center, made["user"]["username"], made["password"]).json()["access_token"]
    password = f"own {uuid.uuid4().hex} words"
    assert _change(center, first, made["password"], password).status_code == 204
    return made["user"], password


def _audit(center: Center, user_id: int) -> list[dict[str, Any]]:
    reply = center.call(
        "GET", "/api/audit", user="commander", params={"entity": "user", "entity_id": user_id}
    )
    assert reply.status_code == 200, reply.text
    rows: list[dict[str, Any]] = reply.json()
    return rows


def test_logout_revokes_the_token(center: Center) -> None:
    user, password = _own_user(center)
    token = _login(center, user["username"], password).json()["access_token"]
    other = _login(center, user["username"], password).json()["access_token"]
    assert center.client.get("/api/units", headers=_bearer(token)).status_code == 200
    out = center.client.post("/api/auth/logout", headers=_bearer(token))
    assert out.status_code == 204, out.text
    for path in ("/api/units", "/api/me"):
        refused = center.client.get(path, headers=_bearer(token))
        assert refused.status_code == 401
        assert "revoked" in refused.json()["message"]
    assert center.client.post("/api/auth/logout", headers=_bearer(token)).status_code == 401
    # only that token: his other session goes on
    assert center.client.get("/api/units", headers=_bearer(other)).status_code == 200
    assert "logout" in [row["action"] for row in _audit(center, user["id"])]


def test_an_expired_token_is_refused(center: Center) -> None:
    user, password = _own_user(center)
    token = _login(center, user["username"], password).json()["access_token"]
    with transaction(center.engine) as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    refused = center.client.get("/api/units", headers=_bearer(token))
    assert refused.status_code == 401
    assert "expired" in refused.json()["message"]


def test_a_given_password_must_be_changed_before_anything_else(center: Center) -> None:
    made = _create(center, "dispatcher")
    name, first = made["user"]["username"], made["password"]
    assert made["user"]["must_change_password"] is True
    reply = _login(center, name, first)
    assert reply.status_code == 200, reply.text
    assert reply.json()["must_change_password"] is True
    token = reply.json()["access_token"]
    second = _login(center, name, first).json()["access_token"]
    for method, path in [
        ("GET", "/api/units"),
        ("GET", "/api/incidents"),
        ("POST", "/api/events/ticket"),
        ("GET", "/api/users"),
    ]:
        refused = center.client.request(method, path, headers=_bearer(token))
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["message"].startswith(RULE)
    me = center.client.get("/api/me", headers=_bearer(token))
    assert me.status_code == 200
    assert (me.json()["must_change_password"], me.json()["unit"], me.json()["orders"]) == (
        True,
        None,
        [],
    )
    wrong = _change(center, token, "not the password", "a much better passphrase")
    assert wrong.status_code == 403
    assert wrong.json()["message"] == "the current password is wrong"
    same = _change(center, token, first, first)
    assert same.status_code in {403, 422}
    changed = _change(center, token, first, "a much better passphrase")
    assert changed.status_code == 204, changed.text
    assert center.client.get("/api/units", headers=_bearer(token)).status_code == 200
    assert center.client.get("/api/units", headers=_bearer(second)).status_code == 401
    assert _login(center, name, first).status_code == 401
    again = _login(center, name, "a much better passphrase")
    assert again.json()["must_change_password"] is False
    rows = _audit(center, made["user"]["id"])
    assert "password changed" in [row["reason"] for row in rows]


@pytest.mark.parametrize(
    ("new", "rule"),
    [
        ("short-pass1", "at least 12 characters, got 11"),
        ("x" * 100 + "y" * 29, "at most 128 characters, got 129"),
        ("            ", "one character repeated or only white space"),
        ("zzzzzzzzzzzzzzzz", "one character repeated or only white space"),
        ("PASSWORD1234", "10,000 most common passwords"),
        ("!!Masturbation2024", "10,000 most common passwords"),
    ],
)
def test_the_password_rule_is_named_and_the_password_never_echoed(
    center: Center, new: str, rule: str
) -> None:
    user, password = _own_user(center)
    token = _login(center, user["username"], password).json()["access_token"]
    refused = _change(center, token, password, new)
    assert refused.status_code == 422, refused.text
    assert rule in refused.json()["message"]
    assert new not in refused.text
    assert password not in refused.text


def test_a_password_must_not_hold_the_user_name(center: Center) -> None:
    user, password = _own_user(center)
    token = _login(center, user["username"], password).json()["access_token"]
    for new in (user["username"].upper() + "-2024", f"my {user['username'].title()} pass"):
        refused = _change(center, token, password, new)
        assert refused.status_code == 422
        assert refused.json()["message"] == "password must not contain the user name"


def test_admin_creates_users_with_their_unit_or_kiosk(center: Center) -> None:
    options = center.call("GET", "/api/users/options", user="admin").json()
    unit, kiosk = options["units"][0], options["kiosks"][0]
    officer = _create(center, "officer", unit_id=unit["id"])
    assert officer["user"]["unit_id"] == unit["id"]
    assert len(officer["password"]) == 16
    clerk = _create(center, "kiosk_clerk", kiosk_id=kiosk["id"])
    assert clerk["user"]["kiosk_id"] == kiosk["id"]
    for body, status, says in [
        ({"role": "officer"}, 422, "needs his unit"),
        ({"role": "kiosk_clerk"}, 422, "needs his kiosk"),
        ({"role": "dispatcher", "unit_id": unit["id"]}, 422, "only a officer has a unit"),
        ({"role": "officer", "unit_id": 999_999}, 404, "unit 999999 does not exist"),
        ({"role": "dispatcher", "username": "admin"}, 409, "exists already"),
    ]:
        reply = center.call("POST", "/api/users", user="admin", json={"username": "newbie", **body})
        assert reply.status_code == status, reply.text
        assert says in reply.json()["message"]
    listed = {u["username"] for u in center.call("GET", "/api/users", user="commander").json()}
    assert {officer["user"]["username"], clerk["user"]["username"], "admin"} <= listed
    created = _audit(center, officer["user"]["id"])
    assert [(r["action"], r["username"], r["to_state"]) for r in created] == [
        ("create", "admin", "officer")
    ]


@pytest.mark.parametrize(
    ("user", "method", "path", "status"),
    [
        ("commander", "GET", "/api/users", 200),
        ("commander", "POST", "/api/users/1/disable", 403),
        ("commander", "POST", "/api/users/1/password", 403),
        ("dispatcher", "GET", "/api/users", 403),
        ("officer", "POST", "/api/users/1/revoke-tokens", 403),
        ("kiosk_clerk", "GET", "/api/users/options", 403),
        ("commander", "GET", "/api/users/options", 403),
    ],
)
def test_only_an_admin_manages_users(
    center: Center, user: str, method: str, path: str, status: int
) -> None:
    assert center.call(method, path, user=user).status_code == status


def test_a_disabled_user_is_out_at_once(center: Center) -> None:
    user, password = _own_user(center)
    token = _login(center, user["username"], password).json()["access_token"]
    disabled = center.call("POST", f"/api/users/{user['id']}/disable", user="admin")
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["active"] is False
    refused = center.client.get("/api/units", headers=_bearer(token))
    assert refused.status_code == 401
    login = _login(center, user["username"], password)
    assert login.status_code == 401
    assert login.json()["message"] == "wrong user name or password"
    center.call("POST", f"/api/users/{user['id']}/enable", user="admin")
    back = _login(center, user["username"], password)
    assert back.status_code == 200
    # the tokens of before the disabling stay dead
    assert center.client.get("/api/units", headers=_bearer(token)).status_code == 401
    changes = [(r["from_state"], r["to_state"]) for r in _audit(center, user["id"])]
    assert ("active", "disabled") in changes
    assert ("disabled", "active") in changes
    admin_id = next(
        u["id"]
        for u in center.call("GET", "/api/users", user="admin").json()
        if u["username"] == "admin"
    )
    myself = center.call("POST", f"/api/users/{admin_id}/disable", user="admin")
    assert myself.status_code == 409


def test_a_reset_password_is_shown_once_and_must_be_changed(center: Center) -> None:
    user, password = _own_user(center)
    token = _login(center, user["username"], password).json()["access_token"]
    reset = center.call("POST", f"/api/users/{user['id']}/password", user="admin")
    assert reset.status_code == 200, reset.text
    new = reset.json()["password"]
    assert reset.json()["user"]["must_change_password"] is True
    assert center.client.get("/api/units", headers=_bearer(token)).status_code == 401
    assert _login(center, user["username"], password).status_code == 401
    fresh = _login(center, user["username"], new)
    assert fresh.json()["must_change_password"] is True
    refused = center.client.get("/api/units", headers=_bearer(fresh.json()["access_token"]))
    assert refused.status_code == 403
    assert "password reset" in [r["reason"] for r in _audit(center, user["id"])]


def test_revoking_a_users_tokens(center: Center) -> None:
    user, password = _own_user(center)
    tokens = [_login(center, user["username"], password).json()["access_token"] for _ in "ab"]
    revoked = center.call("POST", f"/api/users/{user['id']}/revoke-tokens", user="admin")
    assert revoked.json() == {"revoked": 3}  # the two, and the one of his password change
    for token in tokens:
        assert center.client.get("/api/me", headers=_bearer(token)).status_code == 401
    assert _login(center, user["username"], password).status_code == 200
    assert "tokens revoked" in [r["reason"] for r in _audit(center, user["id"])]


def _lock(center: Center, user_id: int, until: datetime) -> None:
    with transaction(center.engine) as session:
        session.execute(update(User).where(User.id == user_id).values(locked_until=until))


def test_wrong_passwords_lock_the_account_for_longer_each_time(center: Center) -> None:
    user, password = _own_user(center)
    name = user["username"]
    for _ in range(5):
        wrong = _login(center, name, "not the password")
        assert wrong.status_code == 401
        assert wrong.json()["message"] == "wrong user name or password"
    locked = _login(center, name, password)  # even the right one waits
    assert locked.status_code == 429
    assert 55 <= int(locked.headers["Retry-After"]) <= 60
    assert "5 wrong passwords in a row" in locked.json()["message"]
    _lock(center, user["id"], datetime.now(UTC) - timedelta(seconds=1))  # the minute is over
    assert _login(center, name, "still not it").status_code == 401
    longer = _login(center, name, password)
    assert longer.status_code == 429
    assert 115 <= int(longer.headers["Retry-After"]) <= 120
    _lock(center, user["id"], datetime.now(UTC) - timedelta(seconds=1))
    assert _login(center, name, password).status_code == 200
    listed = center.call("GET", "/api/users", user="admin").json()
    mine = next(u for u in listed if u["id"] == user["id"])
    assert (mine["failed_logins"], mine["locked_until"]) == (0, None)
    failed = [r for r in _audit(center, user["id"]) if r["action"] == "login_failed"]
    assert len(failed) == 6
    assert failed[0]["detail"] == {
        "username": name,
        "address": "testclient",
        "failures_in_a_row": 6,
        "locked_for_s": 120,
    }


def test_an_unknown_name_fails_like_a_wrong_password_and_is_audited(center: Center) -> None:
    typed = f"nobody-{uuid.uuid4().hex[:8]}"
    reply = _login(center, typed, "whatever it is")
    assert reply.status_code == 401
    assert reply.json()["message"] == "wrong user name or password"
    (row,) = _audit(center, typed)  # type: ignore[arg-type]
    assert (row["action"], row["username"], row["reason"]) == (
        "login_failed",
        typed,
        "unknown user",
    )
    assert row["detail"] == {"username": typed, "address": "testclient"}


def test_password_hashing_is_bounded(center: Center, monkeypatch: pytest.MonkeyPatch) -> None:
    """16 wrong logins at once: at most 2 hashes run at a time, the rest wait their turn."""
    running, most = [0], [0]
    lock = threading.Lock()
    real = login_module.verify_password

    def counted(password_hash: str | None, password: str) -> bool:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            return real(password_hash, password)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(login_module, "verify_password", counted)
    statuses: list[int] = []

    def wrong(i: int) -> None:
        statuses.append(_login(center, f"burst-{i}", "not a password").status_code)

    threads = [threading.Thread(target=wrong, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    health = center.client.get("/api/health")
    for thread in threads:
        thread.join()
    assert statuses == [401] * 16
    assert health.status_code == 200
    assert most[0] == 2
