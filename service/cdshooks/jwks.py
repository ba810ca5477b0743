"""The keys CDS clients sign with: a JWK Set given inline, in a file, or at a ``jku`` URL.

Only keys fit for the two accepted algorithms are kept: ES384 (``kty`` EC, ``crv``
P-384) and RS384 (``kty`` RSA, at least 2048 bits). A key is ignored when it has no
``kid``, when its ``alg`` names another algorithm, when its ``use`` is not ``sig`` or its
``key_ops`` lack ``verify``, when it holds a private part, or when it does not parse.
Keys are looked up by ``(kid, alg)``, so a key is only ever used with the algorithm its
type fits (an RSA key never verifies an HS* MAC or an ES* signature).

A remote set (``jku``) is fetched with urllib: a timeout on the connection and on the
whole download, no redirects (a redirect could leave the allowlisted URL), at most
256 KiB. It is kept for ``cache_seconds``. A token naming an unknown ``kid`` makes it
fetched again once (the issuer rotated its keys), at most once per
``min_refresh_seconds``, so tokens with made-up kids cannot make the service hammer the
issuer; a failed fetch is not retried within that interval either. Keys older than
``cache_seconds`` are not used when a fetch fails: the token is refused (fail closed).

:class:`CdsTokenError` is defined here, the lowest module, so that this module and
:mod:`service.cdshooks.replay` can raise it without an import cycle; import it from
:mod:`service.cdshooks.security`.
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWK, PyJWTError

__all__ = [
    "ALGORITHMS",
    "CdsTokenError",
    "KeySource",
    "RemoteKeys",
    "StaticKeys",
    "parse_jwks",
]

log = logging.getLogger(__name__)

ALGORITHMS = frozenset({"ES384", "RS384"})
"""The only signing algorithms accepted (CDS Hooks recommends exactly these two)."""

MAX_JWKS_BYTES = 256 * 1024
MIN_RSA_BITS = 2048
_KTY = {"ES384": "EC", "RS384": "RSA"}
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")

KeyIndex = dict[tuple[str, str], PyJWK]
"""Keys by ``(kid, alg)``."""


class CdsTokenError(Exception):
    """A CDS client's token was refused, or could not be checked.

    The message says why, for the service's log only: it is never sent to the client
    and never contains the token.
    """


class KeySource(Protocol):
    """Where one issuer's verification keys come from."""

    def key(self, kid: str, alg: str) -> PyJWK:
        """Return the key for ``kid`` usable with ``alg``, or raise :class:`CdsTokenError`."""
        ...


def _algorithm_for(jwk: Mapping[str, Any]) -> str | None:
    kty, declared = jwk.get("kty"), jwk.get("alg")
    if declared is not None and (declared not in ALGORITHMS or _KTY[declared] != kty):
        return None
    if kty == "EC":
        return "ES384" if jwk.get("crv") == "P-384" else None
    if kty == "RSA":
        return "RS384"
    return None


def _usable(jwk: Mapping[str, Any]) -> bool:
    if not isinstance(jwk.get("kid"), str) or not jwk["kid"]:
        return False
    if jwk.get("use", "sig") != "sig":
        return False
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return False
    return not any(member in jwk for member in _PRIVATE_MEMBERS)


def parse_jwks(data: object) -> KeyIndex:
    """Return the ES384/RS384 verification keys of a JWK Set, by ``(kid, alg)``.

    Raise :class:`ValueError` if ``data`` is not a JWK Set (an object with a ``keys``
    list); keys that cannot be used are left out, so the result may be empty. When two
    keys share a kid and algorithm the first is kept (the spec requires unique kids).
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("keys"), list):
        raise ValueError("a JWK Set is a JSON object with a 'keys' list")
    keys: KeyIndex = {}
    for jwk in data["keys"]:
        if not isinstance(jwk, dict) or not _usable(jwk):
            continue
        alg = _algorithm_for(jwk)
        if alg is None or (jwk["kid"], alg) in keys:
            continue
        try:
            key = PyJWK(jwk, algorithm=alg)
        except PyJWTError:
            continue
        if isinstance(key.key, rsa.RSAPublicKey) and key.key.key_size < MIN_RSA_BITS:
            continue
        keys[(jwk["kid"], alg)] = key
    return keys


def _unknown(kid: str, alg: str, where: str) -> CdsTokenError:
    return CdsTokenError(f"no {alg} key with kid {kid[:64]!r} in {where}")


class StaticKeys:
    """A JWK Set read once at start-up (inline in the config, or from a file)."""

    def __init__(self, keys: KeyIndex, *, where: str) -> None:
        self._keys = dict(keys)
        self._where = where

    def key(self, kid: str, alg: str) -> PyJWK:
        """Return the key for ``kid`` and ``alg``, or raise :class:`CdsTokenError`."""
        found = self._keys.get((kid, alg))
        if found is None:
            raise _unknown(kid, alg, self._where)
        return found


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError for the 3xx


class RemoteKeys:
    """The JWK Set at a ``jku`` URL (already checked against the allowlist): fetched on
    first use, cached, fetched again on an unknown kid (rate-limited). Thread-safe."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        cache_seconds: float,
        min_refresh_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._timeout = timeout
        self._cache_seconds = cache_seconds
        self._min_refresh = min_refresh_seconds
        self._clock = clock
        self._opener = urllib.request.build_opener(_NoRedirects())
        self._lock = threading.Lock()
        self._keys: KeyIndex | None = None
        self._fetched_at = -math.inf
        self._attempted_at = -math.inf
        self._last_error: str | None = None
        self.fetches = 0
        """How many fetches were attempted (for tests and metrics)."""

    def key(self, kid: str, alg: str) -> PyJWK:
        """Return the key for ``kid`` and ``alg``, fetching the set if it is stale or
        lacks the kid; raise :class:`CdsTokenError` if there is none or the set can't be had."""
        with self._lock:
            now = self._clock()
            keys = self._current(now)
            found = keys.get((kid, alg))
            if found is None and now - self._attempted_at >= self._min_refresh:
                log.info("unknown kid: fetching the JWK Set at %s again", self.url)
                found = self._fetch(now).get((kid, alg))
            if found is None:
                raise _unknown(kid, alg, f"the JWK Set at {self.url}")
            return found

    def _current(self, now: float) -> KeyIndex:
        if self._keys is not None and now - self._fetched_at < self._cache_seconds:
            return self._keys
        if self._last_error is not None and now - self._attempted_at < self._min_refresh:
            raise CdsTokenError(
                f"the JWK Set at {self.url} is unavailable (last fetch: {self._last_error})"
            )
        return self._fetch(now)

    def _fetch(self, now: float) -> KeyIndex:
        # On failure the keys held so far stay, but only until their cache time is up
        # (``_current``): a made-up kid during an outage must not evict good keys.
        self._attempted_at = now
        self.fetches += 1
        try:
            keys = parse_jwks(self._download())
        except (CdsTokenError, ValueError) as exc:
            self._last_error = str(exc)
            raise CdsTokenError(f"cannot use the JWK Set at {self.url}: {exc}") from exc
        self._keys, self._fetched_at, self._last_error = keys, now, None
        if not keys:
            log.warning("the JWK Set at %s has no ES384 or RS384 signing key", self.url)
        return keys

    def _download(self) -> object:
        request = urllib.request.Request(
            self.url, headers={"Accept": "application/jwk-set+json, application/json"}
        )
        deadline = time.monotonic() + self._timeout
        body = bytearray()
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                if response.status != 200:
                    raise CdsTokenError(f"HTTP {response.status}")
                while chunk := response.read(16384):
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        raise CdsTokenError(f"larger than {MAX_JWKS_BYTES} bytes")
                    if time.monotonic() > deadline:
                        raise CdsTokenError(f"took longer than {self._timeout} s")
        except urllib.error.HTTPError as exc:
            exc.close()
            raise CdsTokenError(f"HTTP {exc.code}") from exc
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            raise CdsTokenError(f"{type(exc).__name__} (timeout {self._timeout} s)") from exc
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise CdsTokenError("not JSON") from exc
