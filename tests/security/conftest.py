"""The security acceptance pass (issue 9, "How it will be checked"), run against the
default server: gunicorn with ``gunicorn.conf.py`` and its default number of workers,
started the way the README says, configured only by environment.

One server serves the package: CDS Hooks issuers of every kind (inline JWK Set, JWK Set
file, ``jku``), an allowlisted sandbox ``jku``, and a REST API trusting a local
OpenID-Connect issuer by discovery. Its log (every worker's output) is read by the log
checks at the end.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.auth.issuer_server import IssuerServer, serving_issuer
from tests.cdshooks.jwks_server import JwksServer, serving_jwks
from tests.cdshooks.jwt_factory import SigningKey, jwks, new_ec256_key, new_ec_key, new_rsa_key
from tests.conftest import AUDIT_HMAC_KEY
from tests.server.running import RunningServer, running_gunicorn

INLINE_ISSUER = "https://ehr.example.org"
FILE_ISSUER = "https://file-ehr.example.org"
JKU_ISSUER = "https://jku-ehr.example.org"
SANDBOX_JKU = "https://sandbox.example/.well-known/jwks.json"


@dataclass(frozen=True)
class SecuredServer:
    """The running server and every party it trusts (or that attacks it)."""

    server: RunningServer
    inline_ec: SigningKey  # ES384, in the inline issuer's JWK Set
    inline_rsa: SigningKey  # RS384, in the inline issuer's JWK Set
    inline_ec256: SigningKey  # a P-256 key the inline issuer lists: ES256 still refused
    file_key: SigningKey  # ES384, in the file issuer's JWK Set file
    jku_key: SigningKey  # ES384, served at the jku issuer's jku
    jku_server: JwksServer
    idp: IssuerServer  # the REST API's OpenID-Connect issuer

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def audit_path(self) -> str:
        return str(self.server.log_path.parent / "audit.jsonl")


@pytest.fixture(scope="package")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredServer]:
    folder = tmp_path_factory.mktemp("security")
    inline_ec, inline_rsa = new_ec_key("ehr-ec"), new_rsa_key("ehr-rsa")
    inline_ec256 = new_ec256_key("ehr-ec256")
    file_key, jku_key = new_ec_key("file-ec"), new_ec_key("jku-ec")
    jwks_file = folder / "file-issuer-jwks.json"
    jwks_file.write_text(json.dumps(jwks(file_key)), encoding="utf-8")
    with serving_jwks() as jku_server, serving_issuer() as idp:
        jku_server.jwks = jwks(jku_key)
        issuers = {
            INLINE_ISSUER: {"jwks": jwks(inline_ec, inline_rsa, inline_ec256)},
            FILE_ISSUER: {"jwks_file": str(jwks_file)},
            JKU_ISSUER: {"jku": jku_server.url},
        }
        with running_gunicorn(
            folder,
            NELM_CDS_CDS_ISSUERS=json.dumps(issuers),
            NELM_CDS_CDS_JKU_ALLOWLIST=f"{jku_server.origin}/,https://sandbox.example/.well-known/",
            NELM_CDS_API_ISSUERS=json.dumps([idp.issuer]),
            NELM_CDS_AUDIT_HMAC_KEY=AUDIT_HMAC_KEY,
            NELM_CDS_AUDIT_LOG_FILE=str(folder / "audit.jsonl"),
        ) as server:
            yield SecuredServer(
                server, inline_ec, inline_rsa, inline_ec256, file_key, jku_key, jku_server, idp
            )
