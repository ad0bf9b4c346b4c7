"""Reader sessions issued by the server: a random id signed by HMAC-SHA256 with a server secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from vibeshelf.settings import Settings

SECRET_FILE = "session.key"  # under <data_dir>/secrets, made once with mode 0600
SECRET_BYTES = 32
_ID_BYTES = 16


@dataclass(frozen=True)
class Session:
    """A reader session: `token` is what the client holds; `returning` that it came back signed."""

    id: str
    token: str
    returning: bool


class SessionSigner:
    """Issues session tokens `<id>.<signature>` and accepts only those it signed."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def issue(self) -> Session:
        session_id = secrets.token_hex(_ID_BYTES)
        return Session(session_id, f"{session_id}.{self._sign(session_id)}", returning=False)

    def verify(self, token: str | None) -> Session | None:
        """The session `token` names, or None when it is missing, malformed or not signed here."""
        session_id, _, signature = (token or "").partition(".")
        if len(session_id) != 2 * _ID_BYTES:
            return None
        if not hmac.compare_digest(signature, self._sign(session_id)):
            return None
        return Session(session_id, token or "", returning=True)

    def _sign(self, session_id: str) -> str:
        digest = hmac.new(self._secret, session_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def session_secret(settings: Settings) -> bytes:
    """`serve.session_secret`, else <data_dir>/secrets/session.key (made once, mode 0600)."""
    if settings.serve.session_secret is not None:
        return settings.serve.session_secret.get_secret_value().encode()
    return _stored_secret(settings.data_dir / "secrets" / SECRET_FILE)


def _stored_secret(path: Path) -> bytes:
    """The secret in `path`; a new random one written first when there is none.

    Written to a private temporary file and linked into place, so concurrent workers all end up
    reading the one secret that won.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(SECRET_BYTES))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_bytes()
