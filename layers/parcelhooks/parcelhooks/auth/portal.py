"""Signing in to the merchant portal: one-time links, sessions, and the checks every portal
call passes.

- A **link** (`phl_…`) is made by the merchant's own system (with its merchant key) or by ops
  (the CLI). It lives at most a day (an hour by default) and can be exchanged once: the
  exchange marks it used with a conditional write, so two tabs racing with the same link
  get one session between them.
- A **session** (`phs_…`) is what the browser holds, in an HttpOnly cookie; it expires
  after `SESSION_TTL` whatever happens, and signing out deletes it. Its CSRF token is a
  one-way hash of it: the page, which cannot read the cookie, asks for it (a same-origin
  read) and sends it in a header with every call that changes something; another site can
  neither read it nor make it.
- Signing in with the merchant key makes a session too, so the key itself is never kept by
  the browser.

Every token is random (32 bytes) and stored only as its SHA-256. Pure: the store is a port.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.cookies import CookieError, SimpleCookie
from typing import Protocol

from parcelhooks.auth.keys import KeyStore, hash_key, looks_like_key
from parcelhooks.core.api_keys import Role
from parcelhooks.core.errors import ForbiddenError, UnauthorizedError
from parcelhooks.core.portal_tokens import PortalToken

LINK_PREFIX = "phl_"
SESSION_PREFIX = "phs_"
TOKEN_RANDOM_BYTES = 32
DEFAULT_LINK_TTL = timedelta(hours=1)
MAX_LINK_TTL = timedelta(days=1)
MIN_LINK_TTL = timedelta(minutes=1)
SESSION_TTL = timedelta(hours=8)
# Methods that change nothing: every other one needs the session's CSRF token.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# `__Host-`: the browser keeps it only if Secure, for Path=/ and this host alone.
SESSION_COOKIE = "__Host-parcelhooks_session"
CSRF_HEADER = "x-csrf-token"


class PortalStore(Protocol):
    def put(self, token: PortalToken) -> None: ...

    def get(self, token_hash: str) -> PortalToken | None: ...

    def use(self, token_hash: str, at: datetime) -> bool:
        """Mark a link used, only if it was not yet: whether this call did."""
        ...

    def delete(self, token_hash: str) -> None: ...


class PortalSignInError(UnauthorizedError):
    """A link or session that does not sign anyone in; one message for every reason, so a
    guesser learns nothing (the reason is logged)."""

    def __init__(self, reason: str) -> None:
        super().__init__("this sign-in link or session is not valid (expired, used or unknown)")
        self.reason = reason


class CsrfError(ForbiddenError):
    """A call that changes something without the session's CSRF token."""


@dataclass(frozen=True, slots=True)
class IssuedLink:
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in session: its token goes into the cookie, its CSRF token to the page."""

    token: str
    csrf_token: str
    merchant_id: str
    expires_at: datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(TOKEN_RANDOM_BYTES)


def link_ttl(requested: timedelta | None) -> timedelta:
    """The link's lifetime: an hour unless asked, from a minute to a day."""
    ttl = requested or DEFAULT_LINK_TTL
    if not MIN_LINK_TTL <= ttl <= MAX_LINK_TTL:
        raise ValueError("a portal link lives from 1 minute to 1 day")
    return ttl


class PortalAuth:
    def __init__(
        self,
        store: PortalStore,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        session_ttl: timedelta = SESSION_TTL,
    ) -> None:
        self._store = store
        self._clock = clock
        self._session_ttl = session_ttl

    def issue_link(
        self, merchant_id: str, *, ttl: timedelta | None = None, issued_by: str = "merchant"
    ) -> IssuedLink:
        now = self._clock()
        token = new_token(LINK_PREFIX)
        expires_at = now + link_ttl(ttl)
        self._store.put(
            PortalToken(
                token_hash=hash_token(token),
                kind="link",
                merchant_id=merchant_id,
                created_at=now,
                expires_at=expires_at,
                issued_by=issued_by,
            )
        )
        return IssuedLink(token, expires_at)

    def exchange_link(self, link: str) -> Session:
        """A session for a live link, which is used up by it."""
        now = self._clock()
        token_hash = hash_token(link)
        found = self._store.get(token_hash) if link.startswith(LINK_PREFIX) else None
        if found is None or found.kind != "link":
            raise PortalSignInError("unknown link")
        if not found.live(now):
            raise PortalSignInError("link expired or used")
        if not self._store.use(token_hash, now):
            raise PortalSignInError("link used by another sign-in")
        return self.start_session(found.merchant_id, issued_by=found.issued_by)

    def start_session(self, merchant_id: str, *, issued_by: str = "merchant") -> Session:
        """A new session for a merchant already proven (a live link, or its live key)."""
        now = self._clock()
        token = new_token(SESSION_PREFIX)
        expires_at = now + self._session_ttl
        self._store.put(
            PortalToken(
                token_hash=hash_token(token),
                kind="session",
                merchant_id=merchant_id,
                created_at=now,
                expires_at=expires_at,
                issued_by=issued_by,
            )
        )
        return Session(token, csrf_token_of(token), merchant_id, expires_at)

    def session(self, token: str | None, *, method: str, csrf_token: str | None) -> PortalToken:
        """The live session a portal call is made in; a change needs its CSRF token."""
        if not token or not token.startswith(SESSION_PREFIX):
            raise PortalSignInError("no session")
        found = self._store.get(hash_token(token))
        if found is None or found.kind != "session":
            raise PortalSignInError("unknown session")
        if found.expires_at <= self._clock():
            raise PortalSignInError("session expired")
        if method.upper() not in SAFE_METHODS and not _same(csrf_token_of(token), csrf_token):
            raise CsrfError("this call changes something: send the X-CSRF-Token header")
        return found

    def sign_in_with_key(self, key: str, keys: KeyStore) -> Session:
        """A session for a live merchant key (the browser then holds the session, not the
        key)."""
        record = keys.find(hash_key(key)) if looks_like_key(key) else None
        if record is None or not record.active or record.role is not Role.MERCHANT:
            raise PortalSignInError("no live merchant key")
        return self.start_session(record.owner_id)

    def sign_out(self, token: str | None) -> None:
        if token and token.startswith(SESSION_PREFIX):
            self._store.delete(hash_token(token))


def csrf_token_of(session_token: str) -> str:
    """The session's CSRF token: derived, one way, so nothing more is stored and the page
    can ask for it again after a reload."""
    digest = hashlib.sha256(f"parcelhooks-csrf:{session_token}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _same(expected: str, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(expected.encode(), (token or "").encode())


def session_cookie(headers: Mapping[str, str] | None) -> str | None:
    """The session token from the request's Cookie header, if it holds one."""
    raw = next((v for k, v in (headers or {}).items() if k.lower() == "cookie"), None)
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel else None


def csrf_header(headers: Mapping[str, str] | None) -> str | None:
    return next((v for k, v in (headers or {}).items() if k.lower() == CSRF_HEADER), None)


def set_session_cookie(session: Session, now: datetime) -> str:
    max_age = max(0, math.ceil((session.expires_at - now).total_seconds()))
    return (
        f"{SESSION_COOKIE}={session.token}; Max-Age={max_age}; Path=/; Secure; HttpOnly; "
        "SameSite=Strict"
    )


def cleared_session_cookie() -> str:
    return f"{SESSION_COOKIE}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Strict"


def csrf_token_of_cookie(headers: Mapping[str, str] | None) -> str:
    """The CSRF token of the session in the request's cookie (checked live by the caller)."""
    return csrf_token_of(session_cookie(headers) or "")
