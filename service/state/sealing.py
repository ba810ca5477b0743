"""Encrypt what the shared store holds that must stay secret (SMART access tokens).

A :class:`Sealer` is Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``):
authenticated encryption, so a value read back has not been altered. Keys are Fernet
keys (32 random bytes, url-safe base64), one or several comma-separated: the first
encrypts, all decrypt, which is how a key is rotated (put the new one first, drop the
old one once the longest session it sealed has expired).

:func:`dev_key` makes the key a demo server uses when none is configured: generated once
into a file (mode 0600, created exclusively, so every worker reads the same key).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["SealError", "Sealer", "dev_key"]


class SealError(Exception):
    """A sealed value cannot be opened (another key, or altered)."""


class Sealer:
    """Seal and open byte strings with the Fernet keys in ``keys`` (comma-separated).

    Raises :class:`ValueError` when a key is not a Fernet key; the message never holds it.
    """

    def __init__(self, keys: str) -> None:
        parts = [part.strip() for part in keys.split(",") if part.strip()]
        if not parts:
            raise ValueError("no key given")
        try:
            self._fernet = MultiFernet([Fernet(part.encode("ascii")) for part in parts])
        except (ValueError, UnicodeEncodeError) as exc:
            raise ValueError("a key is not a Fernet key (32 bytes, url-safe base64)") from exc

    def __repr__(self) -> str:
        return "Sealer(***)"

    @classmethod
    def generate(cls) -> Sealer:
        """Return a sealer with a new random key (for tests and single-process use)."""
        return cls(Fernet.generate_key().decode("ascii"))

    def seal(self, data: bytes) -> bytes:
        """Return ``data`` encrypted and authenticated."""
        return self._fernet.encrypt(data)

    def open(self, sealed: bytes) -> bytes:
        """Return the data of a sealed value; raise :class:`SealError` if it is not ours."""
        try:
            return self._fernet.decrypt(sealed)
        except InvalidToken as exc:
            raise SealError("the value was sealed with another key, or altered") from exc


def dev_key(path: Path) -> str:
    """Return the key in ``path``, generating it first if the file does not exist.

    The file is created exclusively (``O_EXCL``) with mode 0600, so concurrent workers
    agree on one key. Raises :class:`OSError` when the file cannot be made or read.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "wb") as out:
            out.write(Fernet.generate_key())
    for _ in range(50):  # another worker may be writing it right now
        text = path.read_text(encoding="ascii").strip()
        if text:
            return text
        time.sleep(0.01)
    raise OSError(f"the key file {path} stays empty")
