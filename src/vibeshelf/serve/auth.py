"""Who calls /v1 and the reader APIs: API keys (sha256, constant time) or HS256 JWTs; scopes."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import jwt
from starlette.exceptions import HTTPException

from vibeshelf.config.encode import AuthSettings

REALM = 'Bearer realm="vibeshelf"'
NOT_CONFIGURED = (
    "auth is enabled but no credentials are configured, so no request to /v1, /api/events or "
    "/api/recommend for a user_id could ever pass: set "
    "VIBESHELF_AUTH__API_KEYS (JSON, e.g. '{\"team-a\": {\"key\": \"<16+ chars>\", \"scopes\": "
    "[\"encode\", \"events\", \"recommend\"]}}') or VIBESHELF_AUTH__JWT_SECRET, or serve "
    "without auth on loopback with --no-auth"
)


class AuthConfigError(ValueError):
    """Auth is on but nothing could ever authenticate."""


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: `id` keys its rate limit; `rate_per_s` overrides the default.

    `reader` is a JWT's `sub`: such a token acts for that reader only.
    """

    id: str
    scopes: frozenset[str]
    rate_per_s: float | None = None
    reader: str | None = None

    def allows(self, scope: str) -> bool:
        return "*" in self.scopes or scope in self.scopes

    def may_act_for(self, user_id: str) -> bool:
        return self.reader is None or self.reader == user_id


def unauthorized(description: str, error: str | None = None) -> HTTPException:
    """A 401 whose WWW-Authenticate tells the client how to authenticate (RFC 6750)."""
    challenge = f'{REALM}, error="{error}"' if error else REALM
    return HTTPException(401, description, headers={"WWW-Authenticate": challenge})


class Authenticator:
    """Checks a presented API key or JWT against the configured credentials."""

    def __init__(self, settings: AuthSettings) -> None:
        if settings.enabled and not settings.configured:
            raise AuthConfigError(NOT_CONFIGURED)
        self.enabled = settings.enabled
        self._keys = [
            (key_id, bytes.fromhex(key.key_sha256), key) for key_id, key in settings.api_keys.items()
        ]
        self._secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        self._audience = settings.jwt_audience

    def authenticate(self, token: str | None) -> Principal:
        """The caller behind `token`; raises a 401 HTTPException when there is none."""
        if not token:
            raise unauthorized(
                "missing credentials: send `Authorization: Bearer <API key or JWT>` "
                "or `X-API-Key: <API key>`"
            )
        # Keys first: an API key may have two dots, like a JWT; every token pays for the key check.
        found = self._from_key(token)
        if found is not None:
            return found
        if self._secret is not None and token.count(".") == 2:
            return self._from_jwt(token, self._secret)
        raise unauthorized("invalid API key or token", "invalid_token")

    def presented(self, token: str | None, host: str) -> Principal | None:
        """The caller behind the presented `token` (401 if invalid), None when none was sent.

        With auth disabled every caller is anonymous (keyed by `host`) and may do anything.
        """
        if not self.enabled:
            return Principal(f"anonymous:{host}", frozenset({"*"}))
        return self.authenticate(token) if token else None

    def _from_key(self, token: str) -> Principal | None:
        digest = hashlib.sha256(token.encode()).digest()
        found = None
        for key_id, expected, key in self._keys:  # no early exit: time does not depend on the match
            if hmac.compare_digest(digest, expected):
                found = Principal(f"key:{key_id}", key.scopes, key.rate_per_s)
        return found

    def _from_jwt(self, token: str, secret: str) -> Principal:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                audience=self._audience,
                options={"require": ["exp"], "verify_aud": self._audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("token expired", "invalid_token") from None
        except jwt.InvalidTokenError:
            raise unauthorized("invalid API key or token", "invalid_token") from None
        subject = claims.get("sub")
        reader = str(subject) if subject is not None else None
        return Principal(f"jwt:{reader or '-'}", _claimed_scopes(claims), reader=reader)


def _claimed_scopes(claims: dict[str, Any]) -> frozenset[str]:
    """OAuth-style `scope` ("a b") and/or `scopes` (list or string)."""
    scopes: set[str] = set()
    for name in ("scope", "scopes"):
        value = claims.get(name)
        if isinstance(value, str):
            scopes.update(value.split())
        elif isinstance(value, list):
            scopes.update(str(v) for v in value)
    return frozenset(scopes)


def forbidden(scope: str, description: str) -> HTTPException:
    """A 403 naming the scope the credentials would need."""
    return HTTPException(
        403, description,
        headers={"WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{scope}"'},
    )


def authorize_reader(caller: Principal | None, scope: str, user_id: str) -> None:
    """Let `caller` act for reader `user_id` with `scope`: a backend's key or token with the scope,
    or a token whose `sub` is that reader; 401 without credentials, 403 otherwise."""
    if caller is None:
        raise unauthorized(
            f"acting for reader {user_id!r} needs credentials with the {scope!r} scope: send "
            "`Authorization: Bearer <API key or JWT>` or `X-API-Key: <API key>`"
        )
    if not caller.allows(scope):
        raise forbidden(scope, f"these credentials lack the {scope!r} scope")
    if not caller.may_act_for(user_id):
        raise forbidden(
            scope, f"this token acts for reader {caller.reader!r} only, not {user_id!r}"
        )
