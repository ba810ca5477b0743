"""An EHR for SMART launch tests: an OAuth 2.0 authorization server and a tiny FHIR
server, served over real HTTP on 127.0.0.1 from a thread.

with serving_ehr() as ehr:
    ehr.fhir_base                      # http://127.0.0.1:PORT/fhir: the launch's iss
    ehr.new_launch("demo-transplant")  # an opaque launch id for that patient
    ehr.configuration                  # what /fhir/.well-known/smart-configuration serves
    ehr.client_secret = "s3cret"       # make the client confidential (HTTP Basic)
    ehr.deny_with = "access_denied"    # /authorize answers this error instead of a code
    ehr.token_patient = False          # token responses without ``patient``
    ehr.token_status = 503             # the token endpoint fails
    ehr.requests                       # ["GET /fhir/.well-known/...", ...] as received
    ehr.token_calls                    # what each /token call was and how it ended

Endpoints:

- ``GET /fhir/.well-known/smart-configuration``;
- ``GET /auth/authorize``: checks ``response_type=code``, the registered ``client_id``
  and ``redirect_uri`` (a 400 page otherwise: never a redirect to an unregistered URI),
  then ``launch`` (issued by :meth:`Ehr.new_launch`), ``scope`` with ``launch``,
  ``state``, ``aud`` = the FHIR base, a 43-character ``code_challenge`` and
  ``code_challenge_method=S256`` (an ``invalid_request`` redirect otherwise); approves
  at once and redirects with ``code`` and ``state``;
- ``POST /auth/token``: checks the client (form ``client_id`` for a public client, HTTP
  Basic for a confidential one), the code (single use, one minute), ``redirect_uri``
  and the PKCE ``code_verifier`` against the stored challenge with S256
  (``invalid_grant`` when it does not match);
- ``GET /fhir/Patient/<id>`` and ``GET /fhir/<Observation|Condition|Procedure>?patient=``:
  the demo patients' resources, for a bearer token issued here, for its patient only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, redirect, request
from flask.typing import ResponseReturnValue
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

__all__ = ["CLIENT_ID", "Ehr", "serving_ehr"]

CLIENT_ID = "nelm-cds-test"
DEMO = Path(__file__).resolve().parents[2] / "service" / "data" / "demo"
CODE_LIFETIME = 60
TOKEN_LIFETIME = 3600
SEARCHABLE = ("Observation", "Condition", "Procedure")


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    patient: str
    scope: str
    expires: float


@dataclass
class _Token:
    patient: str
    expires: float


@dataclass
class Ehr:
    """The server's state; tests read and change the public attributes."""

    origin: str
    redirect_uri: str
    client_id: str = CLIENT_ID
    client_secret: str | None = None
    deny_with: str | None = None
    deny_description: str = "The user said no"
    token_patient: bool = True
    token_status: int = 200
    configuration: dict[str, Any] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    authorize_calls: list[dict[str, str]] = field(default_factory=list)
    token_calls: list[dict[str, Any]] = field(default_factory=list)
    issued_tokens: list[str] = field(default_factory=list)
    launches: dict[str, str] = field(default_factory=dict)
    codes: dict[str, _Code] = field(default_factory=dict)
    tokens: dict[str, _Token] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.configuration = {
            "authorization_endpoint": self.authorize_url,
            "token_endpoint": self.token_url,
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "scopes_supported": ["launch", "openid", "fhirUser", "patient/*.rs"],
            "response_types_supported": ["code"],
            "capabilities": [
                "launch-ehr",
                "client-public",
                "client-confidential-symmetric",
                "context-ehr-patient",
                "permission-patient",
                "permission-v2",
            ],
            "code_challenge_methods_supported": ["S256"],
        }

    @property
    def fhir_base(self) -> str:
        return f"{self.origin}/fhir"

    @property
    def authorize_url(self) -> str:
        return f"{self.origin}/auth/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.origin}/auth/token"

    def new_launch(self, patient_id: str = "demo-transplant") -> str:
        """Return an opaque launch id whose context is ``patient_id``."""
        launch = secrets.token_urlsafe(16)
        self.launches[launch] = patient_id
        return launch


def s256(verifier: str) -> str:
    """Return the S256 PKCE challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _oauth_error(error: str, status: int = 400) -> ResponseReturnValue:
    response = jsonify(error=error)
    response.headers["Cache-Control"] = "no-store"
    return response, status


def _redirect_back(ehr: Ehr, params: dict[str, str]) -> Response:
    return redirect(f"{ehr.redirect_uri}?{urlencode(params)}", 302)  # type: ignore[return-value]


def _authorize(ehr: Ehr) -> ResponseReturnValue:
    args = request.args.to_dict()
    ehr.authorize_calls.append(args)
    if args.get("client_id") != ehr.client_id or args.get("redirect_uri") != ehr.redirect_uri:
        return "unknown client or unregistered redirect_uri", 400
    state = args.get("state", "")
    challenge = args.get("code_challenge", "")
    problems = [
        args.get("response_type") != "code",
        args.get("launch") not in ehr.launches,
        "launch" not in args.get("scope", "").split(),
        len(state) < 22,
        args.get("aud") != ehr.fhir_base,
        len(challenge) != 43,
        args.get("code_challenge_method") != "S256",
    ]
    if any(problems):
        return _redirect_back(ehr, {"error": "invalid_request", "state": state})
    if ehr.deny_with is not None:
        return _redirect_back(
            ehr,
            {"error": ehr.deny_with, "error_description": ehr.deny_description, "state": state},
        )
    code = secrets.token_urlsafe(24)
    with ehr.lock:
        ehr.codes[code] = _Code(
            client_id=args["client_id"],
            redirect_uri=args["redirect_uri"],
            challenge=challenge,
            patient=ehr.launches[args["launch"]],
            scope=args["scope"],
            expires=time.time() + CODE_LIFETIME,
        )
    return _redirect_back(ehr, {"code": code, "state": state})


def _client_ok(ehr: Ehr, form: dict[str, str]) -> bool:
    if ehr.client_secret is None:
        return form.get("client_id") == ehr.client_id
    auth = request.authorization
    return (
        auth is not None
        and auth.type == "basic"
        and auth.username == ehr.client_id
        and auth.password == ehr.client_secret
    )


def _token(ehr: Ehr) -> ResponseReturnValue:
    form = request.form.to_dict()
    call: dict[str, Any] = {"form": form, "basic": request.authorization is not None}
    ehr.token_calls.append(call)
    if ehr.token_status != 200:
        call["result"] = f"status {ehr.token_status}"
        return _oauth_error("server_error", ehr.token_status)
    if not _client_ok(ehr, form):
        call["result"] = "invalid_client"
        return _oauth_error("invalid_client", 401)
    if form.get("grant_type") != "authorization_code":
        call["result"] = "unsupported_grant_type"
        return _oauth_error("unsupported_grant_type")
    with ehr.lock:
        code = ehr.codes.pop(form.get("code", ""), None)  # single use
    verifier = form.get("code_verifier", "")
    if code is None or code.expires < time.time():
        call["result"] = "invalid_grant: code"
        return _oauth_error("invalid_grant")
    if form.get("redirect_uri") != code.redirect_uri:
        call["result"] = "invalid_grant: redirect_uri"
        return _oauth_error("invalid_grant")
    if not 43 <= len(verifier) <= 128 or s256(verifier) != code.challenge:
        call["result"] = "invalid_grant: code_verifier"
        return _oauth_error("invalid_grant")
    token = secrets.token_urlsafe(32)
    with ehr.lock:
        ehr.tokens[token] = _Token(patient=code.patient, expires=time.time() + TOKEN_LIFETIME)
    ehr.issued_tokens.append(token)
    call["result"] = "issued"
    body: dict[str, Any] = {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME,
        "scope": code.scope,
        "need_patient_banner": False,
    }
    if ehr.token_patient:
        body["patient"] = code.patient
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _demo_resources(patient_id: str) -> list[dict[str, Any]]:
    path = DEMO / f"{patient_id}.json"
    if not path.is_file():
        return []
    bundle = json.loads(path.read_text(encoding="utf-8"))
    return [entry["resource"] for entry in bundle["entry"]]


def _bearer_patient(ehr: Ehr) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    with ehr.lock:
        issued = ehr.tokens.get(token)
    return issued.patient if issued and issued.expires > time.time() else None


def _fhir(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/fhir+json")


def _unauthorized() -> Response:
    response = _fhir(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "login"}],
        },
        401,
    )
    response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def _forbidden() -> Response:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "forbidden"}],
    }
    return _fhir(outcome, 403)


def _patient(ehr: Ehr, patient_id: str) -> ResponseReturnValue:
    allowed = _bearer_patient(ehr)
    if allowed is None:
        return _unauthorized()
    if allowed != patient_id:
        return _forbidden()
    return _fhir([r for r in _demo_resources(patient_id) if r["resourceType"] == "Patient"][0])


def _search(ehr: Ehr, resource_type: str) -> ResponseReturnValue:
    allowed = _bearer_patient(ehr)
    if allowed is None:
        return _unauthorized()
    if resource_type not in SEARCHABLE or request.args.get("patient") != allowed:
        return _forbidden()
    found = [
        r
        for r in _demo_resources(allowed)
        if r["resourceType"] == resource_type
        and r.get("subject", {}).get("reference") == f"Patient/{allowed}"
    ]
    return _fhir(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "entry": [
                {"fullUrl": f"{ehr.fhir_base}/{resource_type}/{r['id']}", "resource": r}
                for r in found
            ],
        }
    )


def _app(ehr: Ehr) -> Flask:
    app = Flask("test_ehr")

    @app.before_request
    def record() -> None:
        ehr.requests.append(f"{request.method} {request.path}")

    @app.get("/fhir/.well-known/smart-configuration")
    def configuration() -> ResponseReturnValue:
        return jsonify(ehr.configuration)

    app.add_url_rule("/auth/authorize", "authorize", lambda: _authorize(ehr))
    app.add_url_rule("/auth/token", "token", lambda: _token(ehr), methods=["POST"])
    app.add_url_rule(
        "/fhir/Patient/<patient_id>", "patient", lambda patient_id: _patient(ehr, patient_id)
    )
    app.add_url_rule(
        "/fhir/<resource_type>", "search", lambda resource_type: _search(ehr, resource_type)
    )
    return app


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the access log would print every URL, codes and states included


@contextmanager
def serving_ehr(redirect_uri: str = "http://localhost/smart/callback") -> Iterator[Ehr]:
    """Run an :class:`Ehr` on 127.0.0.1 (a free port) until the block ends."""

    def wsgi(environ: Any, start_response: Any) -> Any:
        return app(environ, start_response)  # the app needs the port, the port the server

    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, wsgi, threaded=True, request_handler=_QuietHandler
    )
    ehr = Ehr(origin=f"http://127.0.0.1:{server.server_port}", redirect_uri=redirect_uri)
    app = _app(ehr)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="test-ehr", daemon=True
    )
    thread.start()
    try:
        yield ehr
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
