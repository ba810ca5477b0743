"""A tiny OpenID-Connect-like authorization server on 127.0.0.1, run by the tests.

It serves what a resource server reads from Keycloak, Entra ID or Okta: the discovery
document at ``/.well-known/openid-configuration`` (``issuer``, ``jwks_uri``) and the JWK
Set at ``/jwks.json``; and it mints access tokens signed with its keys, as those
servers do (``typ`` JWT, ``kid``, ``iss``, ``aud``, ``exp``/``iat``, ``scope`` or ``scp``)::

    with serving_issuer() as idp:
        token = idp.token(aud="https://nelm.example", scope="nelm/evaluations.read")
        config = {"API_ISSUERS": json.dumps([idp.issuer])}
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt

from tests.cdshooks.jwt_factory import (
    SigningKey,
    jwks,
    new_ec256_key,
    new_ec_key,
    new_rsa_key,
)

__all__ = ["IssuerServer", "serving_issuer"]


class IssuerServer(ThreadingHTTPServer):
    """The server; ``keys`` sign tokens, ``discovery`` overrides the document served."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        rsa = new_rsa_key("rs-1")  # no alg in its JWK, as Entra ID publishes keys
        public = {k: v for k, v in rsa.public_jwk.items() if k != "alg"}
        self.rs256 = SigningKey(rsa.kid, "RS256", rsa.private_key, public)
        self.es256 = new_ec256_key("es256-1")
        self.es384 = new_ec_key("es384-1")
        self.keys = [self.rs256, self.es256, self.es384]
        self.discovery: dict[str, Any] | None = None
        self.hits: dict[str, int] = {}

    @property
    def issuer(self) -> str:
        """Return the issuer URL (the base of the discovery document)."""
        return f"http://127.0.0.1:{self.server_address[1]}/realms/hospital"

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/certs"

    def document(self) -> dict[str, Any]:
        """Return the discovery document served."""
        if self.discovery is not None:
            return self.discovery
        return {
            "issuer": self.issuer,
            "jwks_uri": self.jwks_uri,
            "token_endpoint": f"{self.issuer}/protocol/openid-connect/token",
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        }

    def token(
        self,
        *,
        aud: str | list[str],
        scope: str | None = None,
        key: SigningKey | None = None,
        lifetime: int = 300,
        claims: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        alg: str | None = None,
    ) -> str:
        """Return an access token as the server would issue it (``claims`` override)."""
        signer = key or self.rs256
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "sub": "user-7f3a",
            "aud": aud,
            "azp": "nelm-cds-portal",
            "iat": now,
            "exp": now + lifetime,
            "jti": str(uuid.uuid4()),
        }
        if scope is not None:
            body["scope"] = scope
        body.update(claims or {})
        body = {name: value for name, value in body.items() if value is not None}
        header = {"typ": "JWT", "kid": signer.kid, **(headers or {})}
        # None drops a member; for typ, PyJWT needs to see None to leave out its default.
        header = {name: v for name, v in header.items() if v is not None or name == "typ"}
        return jwt.encode(body, signer.private_key, algorithm=alg or signer.alg, headers=header)


class _Handler(BaseHTTPRequestHandler):
    server: IssuerServer

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        server = self.server
        server.hits[self.path] = server.hits.get(self.path, 0) + 1
        prefix = "/realms/hospital"
        if self.path == f"{prefix}/.well-known/openid-configuration":
            self._send(200, server.document())
        elif self.path == f"{prefix}/protocol/openid-connect/certs":
            self._send(200, jwks(*server.keys))
        else:
            self._send(404, {"error": "not found"})

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass


@contextmanager
def serving_issuer() -> Iterator[IssuerServer]:
    """Run an :class:`IssuerServer` until the block ends."""
    server = IssuerServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
