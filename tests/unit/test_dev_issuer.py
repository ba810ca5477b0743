"""The development CDS client's key pair: generated once, private, shared by processes."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from service.dev_issuer import (
    JWKS_FILE,
    PRIVATE_KEY_FILE,
    ensure_dev_key,
    key_id,
    load_dev_key,
)


def test_no_key_until_one_is_made(tmp_path: Path) -> None:
    assert load_dev_key(tmp_path) is None


def test_the_key_is_made_once_and_then_reused(tmp_path: Path) -> None:
    first = ensure_dev_key(tmp_path / "instance")
    second = ensure_dev_key(tmp_path / "instance")
    assert first.kid == second.kid
    assert (tmp_path / "instance" / PRIVATE_KEY_FILE).stat().st_mode & 0o777 == 0o600
    published = json.loads((tmp_path / "instance" / JWKS_FILE).read_text())
    assert published == first.jwks
    (public,) = published["keys"]
    assert public["kid"] == key_id(public) == first.kid
    assert public["alg"] == "ES384"
    assert "d" not in public


def _make(folder: str) -> str:
    return ensure_dev_key(folder).kid


def test_processes_racing_to_make_it_agree_on_one_key(tmp_path: Path) -> None:
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        kids = pool.map(_make, [str(tmp_path)] * 8)
    assert len(set(kids)) == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_key_file_that_is_not_a_p384_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / PRIVATE_KEY_FILE).write_text("not a key")
    with pytest.raises(ValueError, match="PEM private key"):
        load_dev_key(tmp_path)


def test_the_thumbprint_follows_rfc_7638() -> None:
    # RFC 7638 §3.1 uses an RSA key; the rule for EC is the same with crv, kty, x, y.
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
    }
    assert key_id(jwk) == "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U"
