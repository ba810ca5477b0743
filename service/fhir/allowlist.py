"""Which FHIR servers may be called: normalise base URLs and check URLs against them.

A URL is allowed when its scheme, host and port equal those of an allowlist entry and
its path is the entry's path or below it (``https://ehr.example/fhir`` allows
``https://ehr.example/fhir/Patient/1``, not ``https://ehr.example/fhirx``). Checked
before any request is made, so a ``fhirServer`` from a hook request can never make the
service send a token elsewhere.

Refused outright, whatever the allowlist says: schemes other than http(s); plain http
except to loopback (127.0.0.0/8, ::1, localhost); userinfo (``user@host``); control
characters, spaces and backslashes; ``.``/``..``/empty path segments, encoded or not,
and encoded slashes (so a path cannot climb out of its prefix on the server side);
and, for a base URL, a query string or fragment.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from service.fhir.errors import FhirUrlNotAllowedError

__all__ = ["Allowlist", "ServerUrl", "parse_url", "strip_query"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")
_HOST = re.compile(r"^[a-z0-9.\-]+$|^[0-9a-f:.]+$")


@dataclass(frozen=True)
class ServerUrl:
    """A checked URL split into the parts an allowlist compares."""

    scheme: str
    host: str
    port: int
    path: str
    """Without a trailing slash; ``""`` for the root."""

    @property
    def origin(self) -> str:
        """Return ``scheme://host[:port]`` with the default port left out."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if _DEFAULT_PORTS[self.scheme] == self.port:
            return f"{self.scheme}://{host}"
        return f"{self.scheme}://{host}:{self.port}"

    def __str__(self) -> str:
        return self.origin + self.path

    def contains(self, other: ServerUrl) -> bool:
        """Return whether ``other`` is this URL or lies below it."""
        if (self.scheme, self.host, self.port) != (other.scheme, other.host, other.port):
            return False
        return other.path == self.path or other.path.startswith(self.path + "/")


def strip_query(url: str) -> str:
    """Return ``url`` without its query string and fragment (for error context)."""
    parts = urlsplit(url)
    return parts._replace(query="", fragment="").geturl()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refuse(url: str, reason: str) -> FhirUrlNotAllowedError:
    return FhirUrlNotAllowedError(f"URL refused: {reason}", url=strip_query(url))


def _check_path(url: str, path: str) -> str:
    lowered = path.lower()
    if "%2f" in lowered or "%5c" in lowered:
        raise _refuse(url, "encoded slash in the path")
    segments = path.split("/")[1:]
    if segments and segments[-1] == "":
        segments.pop()  # one trailing slash is allowed and dropped
    for segment in segments:
        if unquote(segment) in ("", ".", ".."):
            raise _refuse(url, "empty, '.' or '..' path segment")
    return "/" + "/".join(segments) if segments else ""


def parse_url(url: str, *, base: bool = True, allow_http: bool = False) -> ServerUrl:
    """Split and normalise ``url``; raise :class:`FhirUrlNotAllowedError` if unsafe.

    With ``base=True`` (a server's base URL) a query string or fragment is refused;
    with ``base=False`` (a request URL such as a Bundle next link) a query is allowed.
    Plain http is refused off loopback unless ``allow_http`` (an operator's explicit
    choice for a private network, e.g. a compose network).
    Scheme and host are lower-cased and the default port made explicit.
    """
    if not isinstance(url, str) or _FORBIDDEN.search(url):
        raise _refuse(str(url), "not a plain URL (spaces, control characters or backslashes)")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise _refuse(url, "only http and https URLs can be called")
    if "@" in parts.netloc:
        raise _refuse(url, "credentials in the URL (user@host) are not allowed")
    host = (parts.hostname or "").rstrip(".")
    if not host or not _HOST.match(host):
        raise _refuse(url, "the host is missing or not an ASCII host name or IP address")
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise _refuse(url, "the port is not a number between 0 and 65535") from exc
    if scheme == "http" and not _is_loopback(host) and not allow_http:
        raise _refuse(url, "plain http is only allowed to loopback; use https")
    if base and (parts.query or parts.fragment or url.endswith(("?", "#"))):
        raise _refuse(url, "a base URL cannot have a query string or fragment")
    if parts.fragment:
        raise _refuse(url, "a request URL cannot have a fragment")
    return ServerUrl(scheme, host, port, _check_path(url, parts.path))


class Allowlist:
    """The FHIR servers the service may call, as base URLs.

    Raises :class:`ValueError` naming the entry when a configured base URL is unsafe
    (configuration errors fail at start-up). An empty allowlist allows nothing.
    """

    def __init__(self, base_urls: Iterable[str], *, allow_http: bool = False) -> None:
        self.allow_http = allow_http
        entries: list[ServerUrl] = []
        for entry in base_urls:
            try:
                entries.append(parse_url(entry, allow_http=allow_http))
            except FhirUrlNotAllowedError as exc:
                raise ValueError(f"FHIR allowlist entry {entry!r}: {exc.message}") from exc
        self._entries = tuple(entries)

    @property
    def base_urls(self) -> tuple[str, ...]:
        """Return the normalised entries."""
        return tuple(str(entry) for entry in self._entries)

    def check(self, url: str, *, base: bool = True) -> ServerUrl:
        """Return ``url`` parsed if it is on the allowlist, else raise
        :class:`FhirUrlNotAllowedError` (also for an unsafe URL)."""
        parsed = parse_url(url, base=base, allow_http=self.allow_http)
        if any(entry.contains(parsed) for entry in self._entries):
            return parsed
        raise FhirUrlNotAllowedError(
            f"URL refused: {parsed.origin} is not on the FHIR server allowlist",
            url=strip_query(url),
        )

    def __contains__(self, url: object) -> bool:
        if not isinstance(url, str):
            return False
        try:
            self.check(url, base=False)
        except FhirUrlNotAllowedError:
            return False
        return True

    def __repr__(self) -> str:
        return f"Allowlist({list(self.base_urls)!r})"
