"""Verification keys of token issuers: a JWK Set given inline, in a file, or at a URL.

Only keys fit for an accepted algorithm are kept: ``ES256`` (``kty`` EC, ``crv``
P-256), ``ES384`` (EC P-384), and ``RS256``/``RS384``/``PS256`` (``kty`` RSA, at least
2048 bits); which of these a caller accepts is its ``algorithms`` argument. A key is
ignored when it has no ``kid``, when its ``alg`` names another algorithm, when its
``use`` is not ``sig`` or its ``key_ops`` lack ``verify``, when it holds a private part,
or when it does not parse. Keys are looked up by ``(kid, alg)``, so a key is only ever
used with an algorithm its type fits (an RSA key never verifies an HS* MAC or an ES*
signature).

A remote set is fetched with urllib: a timeout on the connection and on the whole
download, no redirects (a redirect could leave the checked URL), at most 256 KiB. It is
kept for ``cache_seconds``. A token naming an unknown ``kid`` makes it fetched again once
(the issuer rotated its keys), at most once per ``min_refresh_seconds``, so tokens with
made-up kids cannot make the service hammer the issuer; a failed fetch is not retried
within that interval either. Keys older than ``cache_seconds`` are not used when a fetch
fails: the token is refused (fail closed). A fetched set can be shared with the other
workers through a :class:`SharedDocuments` cache, so one fetch serves them all.

:class:`TokenError` is defined here, the lowest module of :mod:`service.auth`.
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
    "ALL_ALGORITHMS",
    "MAX_JWKS_BYTES",
    "KeySource",
    "RemoteKeys",
    "SharedDocuments",
    "StaticKeys",
    "TokenError",
    "download_json",
    "parse_jwks",
]

log = logging.getLogger(__name__)

MAX_JWKS_BYTES = 256 * 1024
MIN_RSA_BITS = 2048
_KEY_TYPES: dict[str, tuple[str, str | None]] = {
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "PS256": ("RSA", None),
}
ALL_ALGORITHMS = frozenset(_KEY_TYPES)
"""Every algorithm a key here can serve; callers accept a subset (never none or HS*)."""
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")

KeyIndex = dict[tuple[str, str], PyJWK]
"""Keys by ``(kid, alg)``."""


class TokenError(Exception):
    """A bearer token was refused, or could not be checked.

    The message says why, for the service's log only: it is never sent to the client
    and never contains the token.
    """


class KeySource(Protocol):
    """Where one issuer's verification keys come from."""

    def key(self, kid: str, alg: str) -> PyJWK:
        """Return the key for ``kid`` usable with ``alg``, or raise :class:`TokenError`."""
        ...


class SharedDocuments(Protocol):
    """A cache of fetched JSON documents shared by the workers (see :mod:`service.state`)."""

    def get_document(self, url: str) -> tuple[object, float] | None:
        """Return a document fetched from ``url`` and when (epoch seconds), if held."""
        ...

    def put_document(self, url: str, document: object, ttl: float) -> None:
        """Hold ``document`` for ``ttl`` seconds; failures are the cache's to swallow."""
        ...


def _algorithms_for(jwk: Mapping[str, Any], accepted: frozenset[str]) -> list[str]:
    kty, declared = jwk.get("kty"), jwk.get("alg")
    if declared is not None:
        fits = declared in accepted and _KEY_TYPES[declared][0] == kty
        curve = _KEY_TYPES[declared][1] if fits else None
        return [declared] if fits and (curve is None or jwk.get("crv") == curve) else []
    return [
        alg
        for alg in sorted(accepted)
        if _KEY_TYPES[alg][0] == kty and _KEY_TYPES[alg][1] in (None, jwk.get("crv"))
    ]


def _usable(jwk: Mapping[str, Any]) -> bool:
    if not isinstance(jwk.get("kid"), str) or not jwk["kid"]:
        return False
    if jwk.get("use", "sig") != "sig":
        return False
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return False
    return not any(member in jwk for member in _PRIVATE_MEMBERS)


def parse_jwks(data: object, algorithms: frozenset[str]) -> KeyIndex:
    """Return the verification keys of a JWK Set usable with ``algorithms``, by
    ``(kid, alg)``.

    Raise :class:`ValueError` if ``data`` is not a JWK Set (an object with a ``keys``
    list); keys that cannot be used are left out, so the result may be empty. When two
    keys share a kid and algorithm the first is kept (the spec requires unique kids).
    """
    unknown = algorithms - ALL_ALGORITHMS
    if unknown:
        raise ValueError(f"unsupported algorithms {sorted(unknown)}")
    if not isinstance(data, Mapping) or not isinstance(data.get("keys"), list):
        raise ValueError("a JWK Set is a JSON object with a 'keys' list")
    keys: KeyIndex = {}
    for jwk in data["keys"]:
        if not isinstance(jwk, dict) or not _usable(jwk):
            continue
        for alg in _algorithms_for(jwk, algorithms):
            if (jwk["kid"], alg) in keys:
                continue
            try:
                key = PyJWK(jwk, algorithm=alg)
            except PyJWTError:
                continue
            if isinstance(key.key, rsa.RSAPublicKey) and key.key.key_size < MIN_RSA_BITS:
                continue
            keys[(jwk["kid"], alg)] = key
    return keys


def _unknown(kid: str, alg: str, where: str) -> TokenError:
    return TokenError(f"no {alg} key with kid {kid[:64]!r} in {where}")


class StaticKeys:
    """A JWK Set read once at start-up (inline in the config, or from a file)."""

    def __init__(self, keys: KeyIndex, *, where: str) -> None:
        self._keys = dict(keys)
        self._where = where

    def key(self, kid: str, alg: str) -> PyJWK:
        """Return the key for ``kid`` and ``alg``, or raise :class:`TokenError`."""
        found = self._keys.get((kid, alg))
        if found is None:
            raise _unknown(kid, alg, self._where)
        return found


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError for the 3xx


_OPENER = urllib.request.build_opener(_NoRedirects())


def download_json(url: str, *, timeout: float, limit: int = MAX_JWKS_BYTES) -> object:
    """GET ``url`` (no redirects, ``timeout`` for the whole download, at most ``limit``
    bytes) and return its JSON; raise :class:`TokenError` saying what failed."""
    request = urllib.request.Request(
        url, headers={"Accept": "application/jwk-set+json, application/json"}
    )
    deadline = time.monotonic() + timeout
    body = bytearray()
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            if response.status != 200:
                raise TokenError(f"HTTP {response.status}")
            while chunk := response.read1(16384):
                body += chunk
                if len(body) > limit:
                    raise TokenError(f"larger than {limit} bytes")
                if time.monotonic() > deadline:
                    raise TokenError(f"took longer than {timeout} s")
    except urllib.error.HTTPError as exc:
        exc.close()
        raise TokenError(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        raise TokenError(f"{type(exc).__name__} (timeout {timeout} s)") from exc
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise TokenError("not JSON") from exc


class RemoteKeys:
    """The JWK Set at a URL (already checked as safe to call): fetched on first use,
    cached, fetched again on an unknown kid (rate-limited). Thread-safe.

    ``url`` is a string, or a callable returning it on first use (OpenID Connect
    discovery). ``shared`` lets the workers of one server share the fetched set.
    """

    def __init__(
        self,
        url: str | Callable[[], str],
        *,
        algorithms: frozenset[str],
        timeout: float,
        cache_seconds: float,
        min_refresh_seconds: float = 10.0,
        shared: SharedDocuments | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = url
        self._algorithms = algorithms
        self._timeout = timeout
        self._cache_seconds = cache_seconds
        self._min_refresh = min_refresh_seconds
        self._shared = shared
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._keys: KeyIndex | None = None
        self._fetched_at = -math.inf
        self._attempted_at = -math.inf
        self._last_error: str | None = None
        self.fetches = 0
        """How many downloads were attempted (for tests and metrics)."""

    @property
    def url(self) -> str:
        """Return the JWK Set URL (resolving it if it is discovered)."""
        if callable(self._url):
            self._url = self._url()
        return self._url

    def key(self, kid: str, alg: str) -> PyJWK:
        """Return the key for ``kid`` and ``alg``, fetching the set if it is stale or
        lacks the kid; raise :class:`TokenError` if there is none or the set can't be had."""
        with self._lock:
            now = self._clock()
            keys = self._current(now)
            found = keys.get((kid, alg))
            if found is None and now - self._attempted_at >= self._min_refresh:
                log.info("unknown kid: fetching a JWK Set again")
                found = self._fetch(now, shared_first=False).get((kid, alg))
            if found is None:
                raise _unknown(kid, alg, "the issuer's JWK Set")
            return found

    def _current(self, now: float) -> KeyIndex:
        if self._keys is not None and now - self._fetched_at < self._cache_seconds:
            return self._keys
        if self._last_error is not None and now - self._attempted_at < self._min_refresh:
            raise TokenError(f"the JWK Set is unavailable (last fetch: {self._last_error})")
        return self._fetch(now, shared_first=True)

    def _fetch(self, now: float, *, shared_first: bool) -> KeyIndex:
        # On failure the keys held so far stay, but only until their cache time is up
        # (``_current``): a made-up kid during an outage must not evict good keys.
        self._attempted_at = now
        try:
            url = self.url
            held = self._shared_document(url, now) if shared_first else None
            if held is None:
                self.fetches += 1
                document = download_json(url, timeout=self._timeout)
                keys = parse_jwks(document, self._algorithms)
                if self._shared is not None:
                    self._shared.put_document(url, document, self._cache_seconds)
            else:
                keys = parse_jwks(held[0], self._algorithms)
                now = held[1]
        except (TokenError, ValueError) as exc:
            self._last_error = str(exc)
            raise TokenError(f"cannot use the JWK Set: {exc}") from exc
        self._keys, self._fetched_at, self._last_error = keys, now, None
        if not keys:
            log.warning("a JWK Set has no key for the accepted algorithms")
        return keys

    def _shared_document(self, url: str, now: float) -> tuple[object, float] | None:
        """Return a set another worker fetched, with its age mapped onto our clock."""
        if self._shared is None:
            return None
        held = self._shared.get_document(url)
        if held is None:
            return None
        document, fetched_wall = held
        age = max(0.0, self._wall_clock() - fetched_wall)
        if age >= self._cache_seconds:
            return None
        return document, now - age
