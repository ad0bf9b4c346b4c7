"""Auth of the embedding service: key settings, API keys, HS256 JWTs, scopes, refusing no credentials."""

from __future__ import annotations

import hashlib
import time

import jwt
import pytest
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from vibeshelf.config.encode import AuthSettings
from vibeshelf.serve.auth import AuthConfigError, Authenticator
from vibeshelf.settings import Settings

KEY = "team-a-key-0123456789"
SECRET = "s" * 40


def auth(**settings: object) -> Authenticator:
    return Authenticator(AuthSettings.model_validate(settings))


def token(secret: str = SECRET, **claims: object) -> str:
    return jwt.encode({"exp": int(time.time()) + 60, "sub": "svc", **claims}, secret, algorithm="HS256")


def rejected(authenticator: Authenticator, presented: str | None) -> HTTPException:
    with pytest.raises(HTTPException) as info:
        authenticator.authenticate(presented)
    assert info.value.status_code == 401
    assert info.value.headers is not None
    assert info.value.headers["WWW-Authenticate"].startswith('Bearer realm="vibeshelf"')
    return info.value


def test_plain_keys_from_env_are_kept_only_as_sha256(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "VIBESHELF_AUTH__API_KEYS", f'{{"team-a": {{"key": "{KEY}", "scopes": ["encode", "admin"]}}}}'
    )
    settings = Settings()
    key = settings.auth.api_keys["team-a"]
    assert key.key_sha256 == hashlib.sha256(KEY.encode()).hexdigest()
    assert key.scopes == {"encode", "admin"}
    assert KEY not in settings.model_dump_json()


def test_bad_key_settings_never_echo_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIBESHELF_AUTH__API_KEYS", '{"a": {"key": "too-short-key"}}')
    with pytest.raises(ValidationError) as info:
        Settings()
    assert "at least 16 characters" in str(info.value)
    assert "too-short-key" not in str(info.value)
    with pytest.raises(ValidationError, match="not both"):
        AuthSettings.model_validate({"api_keys": {"a": {"key": KEY, "key_sha256": "0" * 64}}})
    with pytest.raises(ValidationError, match="32 characters"):
        AuthSettings(jwt_secret="short")  # type: ignore[arg-type]


def test_auth_without_any_credential_refuses_to_start() -> None:
    with pytest.raises(AuthConfigError, match="VIBESHELF_AUTH__API_KEYS"):
        auth()
    assert not auth(enabled=False).enabled


def test_api_keys_by_plain_key_or_sha256() -> None:
    authenticator = auth(
        api_keys={
            "a": {"key": KEY},
            "b": {"key_sha256": hashlib.sha256(b"other-key-0123456789").hexdigest(), "scopes": ["x"],
                  "rate_per_s": 2},
        }
    )
    a = authenticator.authenticate(KEY)
    assert (a.id, a.allows("encode"), a.rate_per_s) == ("key:a", True, None)
    b = authenticator.authenticate("other-key-0123456789")
    assert (b.id, b.allows("encode"), b.allows("x"), b.rate_per_s) == ("key:b", False, True, 2)


def test_missing_and_unknown_keys_are_401() -> None:
    authenticator = auth(api_keys={"a": {"key": KEY}})
    assert "missing credentials" in rejected(authenticator, None).detail
    assert "missing credentials" in rejected(authenticator, "").detail
    assert 'error="invalid_token"' in rejected(authenticator, KEY + "x").headers["WWW-Authenticate"]  # type: ignore[index]
    rejected(authenticator, token())  # a JWT is no API key when no secret is configured


def test_jwt_scopes_from_scope_or_scopes() -> None:
    authenticator = auth(jwt_secret=SECRET)
    assert authenticator.authenticate(token(scope="read encode")).allows("encode")
    assert authenticator.authenticate(token(scopes=["encode"])).allows("encode")
    caller = authenticator.authenticate(token(scope="read"))
    assert caller.id == "jwt:svc" and not caller.allows("encode")


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda: token(exp=int(time.time()) - 5, scope="encode"), id="expired"),
        pytest.param(lambda: token(secret="x" * 40, scope="encode"), id="wrong-secret"),
        pytest.param(lambda: jwt.encode({"sub": "svc", "scope": "encode"}, SECRET, "HS256"), id="no-exp"),
        pytest.param(lambda: jwt.encode({"exp": int(time.time()) + 60}, None, "none"), id="alg-none"),
        pytest.param(lambda: token()[:-3] + "abc", id="tampered"),
    ],
)
def test_bad_jwts_are_401(bad: object) -> None:
    error = rejected(auth(jwt_secret=SECRET), bad())  # type: ignore[operator]
    assert error.detail in ("token expired", "invalid API key or token")


def test_expired_jwt_says_so() -> None:
    assert rejected(auth(jwt_secret=SECRET), token(exp=int(time.time()) - 5)).detail == "token expired"


def test_jwt_audience_when_configured() -> None:
    authenticator = auth(jwt_secret=SECRET, jwt_audience="vibeshelf")
    assert authenticator.authenticate(token(aud="vibeshelf")).id == "jwt:svc"
    rejected(authenticator, token(aud="someone-else"))
    rejected(authenticator, token())


def test_an_api_key_with_two_dots_is_checked_as_a_key_beside_jwts() -> None:
    dotted = "abc.def.0123456789ghijkl"
    hashed = "ghi.jkl.0123456789mnopqr"
    authenticator = auth(
        jwt_secret=SECRET,
        api_keys={
            "a": {"key": dotted},
            "b": {"key_sha256": hashlib.sha256(hashed.encode()).hexdigest()},
        },
    )
    assert authenticator.authenticate(dotted).id == "key:a"
    assert authenticator.authenticate(hashed).id == "key:b"
    assert authenticator.authenticate(token(scope="encode")).id == "jwt:svc"
    assert rejected(authenticator, dotted + "x").detail == "invalid API key or token"
    assert rejected(authenticator, token(exp=int(time.time()) - 5)).detail == "token expired"
