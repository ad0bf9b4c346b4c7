"""Signed reader sessions: only tokens this server signed are accepted; its secret is kept private."""

from __future__ import annotations

import stat
from pathlib import Path

from vibeshelf.serve.sessions import SECRET_FILE, SessionSigner, session_secret
from vibeshelf.settings import Settings


def test_only_tokens_signed_with_the_secret_are_accepted() -> None:
    signer = SessionSigner(b"k" * 32)
    issued = signer.issue()
    assert not issued.returning
    back = signer.verify(issued.token)
    assert back is not None and back.id == issued.id and back.returning
    forged_signature = issued.id + "." + "A" * 43
    other_server = SessionSigner(b"x" * 32).issue().token
    for token in (None, "", issued.id, forged_signature, other_server, "reader-1", issued.token + "x"):
        assert signer.verify(token) is None, token


def test_the_secret_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = session_secret(settings)
    path = tmp_path / "secrets" / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) == 32
    assert session_secret(settings) == first  # the next worker or restart reads the same one
    configured = Settings(data_dir=tmp_path, serve={"session_secret": "s" * 32})
    assert session_secret(configured) == b"s" * 32
