"""Settings of the embedding service under /v1: credentials (`auth`) and limits, batching, cache (`encode`)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from vibeshelf.config.fields import BodyBytes, CacheEntries, Threads
from vibeshelf.config.urls import check_url

MIN_KEY_CHARS = 16
MIN_JWT_SECRET_CHARS = 32
KeyId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Scope = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:*-]{1,64}$")]


class ApiKeySettings(BaseModel):
    """One API key, kept only as its sha256: a plain `key` given in the config is hashed on load."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, frozen=True)

    key_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    scopes: frozenset[Scope] = frozenset({"encode"})
    rate_per_s: Annotated[float | None, Field(gt=0)] = None

    @model_validator(mode="before")
    @classmethod
    def _hash_plain_key(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "key" not in data:
            return data
        data = dict(data)
        key = data.pop("key")
        if "key_sha256" in data:
            raise ValueError("give an API key as `key` or as `key_sha256`, not both")
        if not isinstance(key, str) or len(key) < MIN_KEY_CHARS:
            raise ValueError(f"an API key needs at least {MIN_KEY_CHARS} characters")
        data["key_sha256"] = hashlib.sha256(key.encode()).hexdigest()
        return data


class AuthSettings(BaseModel):
    """Who may call /v1/*: API keys and/or HS256 JWTs signed with `jwt_secret`."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    enabled: bool = True
    api_keys: dict[KeyId, ApiKeySettings] = {}
    jwt_secret: SecretStr | None = None
    jwt_audience: str | None = None

    @field_validator("jwt_secret")
    @classmethod
    def _long_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and len(secret.get_secret_value()) < MIN_JWT_SECRET_CHARS:
            raise ValueError(f"jwt_secret needs at least {MIN_JWT_SECRET_CHARS} characters")
        return secret

    @property
    def configured(self) -> bool:
        """Whether any credential could ever be accepted."""
        return bool(self.api_keys) or self.jwt_secret is not None


class EncodeSettings(BaseModel):
    """Request limits, micro-batching, vector cache and rate limit of the embedding service."""

    model_config = ConfigDict(extra="forbid")

    max_texts: Annotated[int, Field(ge=1, le=10_000)] = 256
    max_text_chars: Annotated[int, Field(ge=1, le=1_000_000)] = 5000
    max_body_bytes: BodyBytes = 4 * 1024 * 1024
    batch_max_texts: Annotated[int, Field(ge=1, le=4096)] = 64
    batch_wait_ms: Annotated[float, Field(ge=0, le=1000)] = 2.0
    workers: Threads = 2
    gil_switch_ms: Annotated[float, Field(gt=0, le=100)] = 0.5
    max_queued_texts: Annotated[int, Field(ge=1, le=10_000_000)] = 8192
    cache_size: CacheEntries = 16_384
    redis_url: str | None = None
    redis_ttl_s: Annotated[int, Field(ge=0)] = 7 * 24 * 3600
    redis_timeout_ms: Annotated[float, Field(gt=0, le=60_000)] = 100.0
    rate_limit_per_s: Annotated[float, Field(ge=0)] = 200.0
    rate_limit_burst: Annotated[int, Field(ge=1)] = 1024
    log_texts: bool = False

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, url: str | None) -> str | None:
        if not url:
            return None
        return check_url(url, "encode.redis_url", ("redis",), "redis://, rediss:// or unix://")

    @model_validator(mode="after")
    def _burst_fits_a_request(self) -> EncodeSettings:
        if self.rate_limit_per_s and self.rate_limit_burst < self.max_texts:
            raise ValueError(
                f"rate_limit_burst ({self.rate_limit_burst}) must be at least max_texts "
                f"({self.max_texts}), or a full request could never pass"
            )
        return self
