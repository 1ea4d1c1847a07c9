"""Portal sign-in: one-time links exchanged for sessions that expire, CSRF on every change."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from parcelhooks.auth.portal import (
    LINK_PREFIX,
    SESSION_PREFIX,
    CsrfError,
    PortalAuth,
    PortalSignInError,
    hash_token,
    link_ttl,
)
from parcelhooks.core.portal_tokens import PortalToken
from testkit.factories import NOW


class MemoryStore:
    """The table as a dict, with the conditional write of `use`."""

    def __init__(self) -> None:
        self.items: dict[str, PortalToken] = {}

    def put(self, token: PortalToken) -> None:
        assert token.token_hash not in self.items
        self.items[token.token_hash] = token

    def get(self, token_hash: str) -> PortalToken | None:
        return self.items.get(token_hash)

    def use(self, token_hash: str, at: datetime) -> bool:
        found = self.items.get(token_hash)
        if found is None or found.used_at is not None:
            return False
        self.items[token_hash] = found.model_copy(update={"used_at": at})
        return True

    def delete(self, token_hash: str) -> None:
        self.items.pop(token_hash, None)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def _auth() -> tuple[PortalAuth, MemoryStore, Clock]:
    store, clock = MemoryStore(), Clock()
    return PortalAuth(store, clock=clock), store, clock


def test_a_link_is_exchanged_for_a_session_of_its_merchant() -> None:
    auth, _, _ = _auth()
    link = auth.issue_link("merchant-a")
    assert link.token.startswith(LINK_PREFIX) and link.expires_at == NOW + timedelta(hours=1)
    session = auth.exchange_link(link.token)
    assert session.token.startswith(SESSION_PREFIX) and session.merchant_id == "merchant-a"
    assert session.expires_at == NOW + timedelta(hours=8)
    found = auth.session(session.token, method="GET", csrf_token=None)
    assert found.merchant_id == "merchant-a"


def test_only_hashes_are_stored() -> None:
    auth, store, _ = _auth()
    link = auth.issue_link("merchant-a")
    session = auth.exchange_link(link.token)
    stored = " ".join(t.model_dump_json() for t in store.items.values())
    for secret in (link.token, session.token, session.csrf_token):
        assert secret not in stored
    assert hash_token(session.token) in store.items


def test_a_link_signs_in_once_only() -> None:
    auth, _, _ = _auth()
    link = auth.issue_link("merchant-a")
    auth.exchange_link(link.token)
    with pytest.raises(PortalSignInError) as caught:
        auth.exchange_link(link.token)
    assert caught.value.reason == "link expired or used"


class RacedStore(MemoryStore):
    """Another tab's exchange of the same link wrote `used_at` between our read and write."""

    def use(self, token_hash: str, at: datetime) -> bool:
        return False


def test_a_link_used_by_a_racing_sign_in_gives_no_second_session() -> None:
    store = RacedStore()
    auth = PortalAuth(store, clock=lambda: NOW)
    link = auth.issue_link("merchant-a")
    with pytest.raises(PortalSignInError) as caught:
        auth.exchange_link(link.token)
    assert caught.value.reason == "link used by another sign-in"
    assert [t.kind for t in store.items.values()] == ["link"]


def test_an_expired_link_signs_nobody_in() -> None:
    auth, _, clock = _auth()
    link = auth.issue_link("merchant-a", ttl=timedelta(minutes=5))
    clock.now += timedelta(minutes=5)
    with pytest.raises(PortalSignInError):
        auth.exchange_link(link.token)


def test_a_session_expires_after_its_ttl_whatever_it_does() -> None:
    auth, _, clock = _auth()
    session = auth.start_session("merchant-a")
    clock.now += timedelta(hours=8) - timedelta(seconds=1)
    auth.session(session.token, method="GET", csrf_token=None)
    clock.now += timedelta(seconds=1)
    with pytest.raises(PortalSignInError) as caught:
        auth.session(session.token, method="GET", csrf_token=None)
    assert caught.value.reason == "session expired"


def test_signing_out_ends_the_session() -> None:
    auth, store, _ = _auth()
    session = auth.start_session("merchant-a")
    auth.sign_out(session.token)
    assert store.items == {}
    with pytest.raises(PortalSignInError):
        auth.session(session.token, method="GET", csrf_token=None)


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE", "PUT"])
def test_a_change_needs_the_sessions_csrf_token(method: str) -> None:
    auth, _, _ = _auth()
    session = auth.start_session("merchant-a")
    for wrong in (None, "", "forged", auth.start_session("merchant-a").csrf_token):
        with pytest.raises(CsrfError):
            auth.session(session.token, method=method, csrf_token=wrong)
    assert auth.session(session.token, method=method, csrf_token=session.csrf_token)


def test_a_link_is_no_session_and_a_session_is_no_link() -> None:
    auth, _, _ = _auth()
    link = auth.issue_link("merchant-a")
    session = auth.start_session("merchant-a")
    with pytest.raises(PortalSignInError):
        auth.session(link.token, method="GET", csrf_token=None)
    with pytest.raises(PortalSignInError):
        auth.exchange_link(session.token)
    # Nor is anything else: a merchant key, garbage, an empty cookie.
    for other in ("phk_" + "a" * 43, "x", ""):
        with pytest.raises(PortalSignInError):
            auth.exchange_link(other)
        with pytest.raises(PortalSignInError):
            auth.session(other, method="GET", csrf_token=None)


def test_a_link_lives_from_a_minute_to_a_day() -> None:
    assert link_ttl(None) == timedelta(hours=1)
    assert link_ttl(timedelta(days=1)) == timedelta(days=1)
    for wrong in (timedelta(seconds=59), timedelta(days=1, seconds=1)):
        with pytest.raises(ValueError, match="1 minute to 1 day"):
            link_ttl(wrong)
