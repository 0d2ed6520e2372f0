"""Access token for an app reachable beyond this machine: a login form sets a cookie, the API takes
`Authorization: Bearer <token>`. On 127.0.0.1 the app needs no token."""
from __future__ import annotations

import hashlib
import hmac
import secrets

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
MIN_TOKEN_LENGTH = 16
COOKIE = "clausebank_auth"
OPEN_PATHS = ("/login", "/static/")


class TokenError(ValueError):
    """The app would be exposed without a usable token."""


def is_local(host: str) -> bool:
    return host in LOCAL_HOSTS


def resolve_token(host: str, env_token: str | None) -> tuple[str | None, bool]:
    """The token to require for `host` and whether it was generated here (to print it once).

    A local bind needs none; another bind takes CLAUSEBANK_TOKEN, or a fresh random one, and refuses
    a token too short to withstand guessing."""
    if is_local(host):
        return (env_token or None), False
    if env_token is None:
        return secrets.token_urlsafe(24), True
    check_token(env_token)
    return env_token, False


def check_token(token: str | None) -> None:
    if not token or len(token) < MIN_TOKEN_LENGTH:
        raise TokenError(f"refusing to serve beyond this machine without an access token of at least "
                         f"{MIN_TOKEN_LENGTH} characters (set CLAUSEBANK_TOKEN, or unset it to get a generated one)")


def cookie_value(token: str) -> str:
    """What the login cookie holds: a digest of the token, never the token itself."""
    return hmac.new(token.encode(), b"clausebank-login", hashlib.sha256).hexdigest()


def authorised(token: str, cookie: str | None, authorization: str | None) -> bool:
    if cookie and hmac.compare_digest(cookie, cookie_value(token)):
        return True
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def token_matches(token: str, given: str) -> bool:
    return hmac.compare_digest(given.strip().encode(), token.encode())
