"""A small FHIR Bulk Data server for tests, over real HTTP on 127.0.0.1 (a thread).

with serving_bulk(export_folder) as server:
    server.base                    # http://127.0.0.1:PORT/fhir
    server.status_script = [...]   # what the status polls answer before the manifest
    server.require_token = True    # kick-off, polls and files need a bearer token
    server.kickoffs                # the kick-off requests (path, params, headers)

Serves the resources of an export folder (NDJSON files) as the Bulk Data Access IG
says: ``$export`` at system, ``Patient`` and ``Group/{id}`` level (``Prefer:
respond-async`` required, ``_type``, ``_typeFilter=Observation?code=...`` applied),
status polls answering from ``status_script`` (202 with ``X-Progress`` and
``Retry-After`` in seconds or as an HTTP date, 429, a transient 500 with an
OperationOutcome, or a fatal one) and then the manifest, file downloads, DELETE, and a
SMART Backend Services token endpoint that verifies the client's signed assertion.
"""

from __future__ import annotations

import email.utils
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
from flask import Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from service.screening.ndjson import find_export_files, read_lines
from service.screening.selection import patient_key

__all__ = ["BulkServer", "serving_bulk"]

CLIENT_ID = "nelm-bulk-test"


@dataclass
class BulkServer:
    """The server's state; tests read and change the public attributes."""

    folder: Path
    origin: str = ""
    require_token: bool = False
    requires_access_token: bool = True
    status_script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    groups: dict[str, set[str]] = field(default_factory=dict)
    public_key: Any = None
    kid: str = "k1"
    file_host: str | None = None
    list_empty_files: bool = True  # the SMART reference server lists none (an unknown Group)
    kickoffs: list[dict[str, Any]] = field(default_factory=list)
    polls: int = 0
    deleted: list[str] = field(default_factory=list)
    downloads: list[dict[str, Any]] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"{self.origin}/fhir"

    def lines(self, kind: str, job: dict[str, Any]) -> list[str]:
        """Return the NDJSON lines of ``kind`` that the job exports."""
        members = job["members"]
        codes = job["codes"].get(kind)
        out = []
        for export_file in find_export_files(self.folder):
            for _, raw in read_lines(export_file.path):
                try:
                    resource = json.loads(raw or b"")
                except ValueError:
                    continue
                if not isinstance(resource, dict) or resource.get("resourceType") != kind:
                    continue
                owner = resource.get("id") if kind == "Patient" else patient_key(resource)[0]
                if members is not None and owner not in members:
                    continue
                if codes is not None:
                    found = {
                        f"{c.get('system')}|{c.get('code')}"
                        for c in resource.get("code", {}).get("coding", [])
                    }
                    if not found & codes:
                        continue
                out.append(json.dumps(resource))
        return out


def _authorised(server: BulkServer) -> bool:
    header = request.headers.get("Authorization", "")
    return header.startswith("Bearer ") and header[7:] in server.tokens


def _outcome(status: int, code: str, text: str) -> Response:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    }
    response = jsonify(body)
    response.status_code = status
    return response


def _app(server: BulkServer) -> Flask:
    app = Flask(__name__)

    @app.get("/fhir/.well-known/smart-configuration")
    def smart_configuration() -> ResponseReturnValue:
        return jsonify(
            token_endpoint=f"{server.origin}/token",
            token_endpoint_auth_methods_supported=["private_key_jwt"],
            token_endpoint_auth_signing_alg_values_supported=["RS384", "ES384"],
        )

    @app.post("/token")
    def token() -> ResponseReturnValue:
        form = request.form
        if form.get("grant_type") != "client_credentials":
            return jsonify(error="unsupported_grant_type"), 400
        try:
            claims = jwt.decode(
                form.get("client_assertion", ""),
                server.public_key,
                algorithms=["RS384", "ES384"],
                audience=f"{server.origin}/token",
            )
        except jwt.PyJWTError:
            return jsonify(error="invalid_client"), 401
        if claims.get("iss") != CLIENT_ID or claims.get("sub") != CLIENT_ID:
            return jsonify(error="invalid_client"), 401
        issued = secrets.token_urlsafe(16)
        server.tokens.add(issued)
        return jsonify(
            access_token=issued, token_type="bearer", expires_in=300, scope=form.get("scope")
        )

    def kick_off(members: set[str] | None) -> ResponseReturnValue:
        params = parse_qs(request.query_string.decode(), keep_blank_values=True)
        server.kickoffs.append(
            {
                "path": request.path,
                "params": params,
                "prefer": request.headers.get("Prefer"),
                "authorization": request.headers.get("Authorization"),
            }
        )
        if server.require_token and not _authorised(server):
            return _outcome(401, "login", "no valid token")
        if request.headers.get("Prefer") != "respond-async":
            return _outcome(400, "invalid", "Prefer: respond-async is required")
        types = params.get("_type", ["Patient,Condition,Observation,Procedure"])[0].split(",")
        codes: dict[str, set[str]] = {}
        for value in params.get("_typeFilter", []):
            kind, _, query = value.partition("?")
            codes[kind] = set(parse_qs(query).get("code", [""])[0].split(","))
        job = secrets.token_hex(4)
        server.jobs[job] = {
            "types": types,
            "codes": codes,
            "members": members,
            "script": list(server.status_script),
        }
        response = Response(status=202)
        response.headers["Content-Location"] = f"{server.base}/status/{job}"
        return response

    @app.get("/fhir/$export")
    def system_export() -> ResponseReturnValue:
        return kick_off(None)

    @app.get("/fhir/Patient/$export")
    def patient_export() -> ResponseReturnValue:
        return kick_off(None)

    @app.get("/fhir/Group/<group_id>/$export")
    def group_export(group_id: str) -> ResponseReturnValue:
        if group_id not in server.groups:
            return _outcome(404, "not-found", "no such Group")
        return kick_off(server.groups[group_id])

    @app.route("/fhir/status/<job>", methods=["GET", "DELETE"])
    def status(job: str) -> ResponseReturnValue:
        if server.require_token and not _authorised(server):
            return _outcome(401, "login", "no valid token")
        state = server.jobs.get(job)
        if state is None:
            return _outcome(404, "not-found", "no such export")
        if request.method == "DELETE":
            server.deleted.append(job)
            return Response(status=202)
        server.polls += 1
        if state["script"]:
            code, headers = state["script"].pop(0)
            if code == 500:
                response = _outcome(500, headers.get("issue", "transient"), "try again")
            else:
                response = Response(status=code)
            for name, value in headers.items():
                if name != "issue":
                    response.headers[name] = value
            return response
        host = server.file_host or server.origin
        output = [
            {
                "type": kind,
                "url": f"{host}/fhir/files/{job}/{kind}",
                "count": len(server.lines(kind, state)),
            }
            for kind in state["types"]
        ]
        output = [o for o in output if o["count"] or server.list_empty_files]
        return jsonify(
            transactionTime="2026-11-22T08:00:00Z",
            request=f"{server.base}/$export",
            requiresAccessToken=server.requires_access_token,
            output=output,
            error=[{"type": "OperationOutcome", "url": f"{server.base}/files/{job}/errors"}],
        )

    @app.get("/fhir/files/<job>/<kind>")
    def files(job: str, kind: str) -> ResponseReturnValue:
        server.downloads.append(
            {"kind": kind, "authorization": request.headers.get("Authorization")}
        )
        if server.requires_access_token and not _authorised(server):
            return _outcome(401, "login", "no valid token")
        state = server.jobs[job]
        if kind == "errors":
            issue = {
                "resourceType": "OperationOutcome",
                "issue": [
                    {
                        "severity": "error",
                        "code": "processing",
                        "diagnostics": "one resource skipped",
                    }
                ],
            }
            return Response(json.dumps(issue) + "\n", mimetype="application/fhir+ndjson")
        body = "".join(line + "\n" for line in server.lines(kind, state))
        return Response(body, mimetype="application/fhir+ndjson")

    return app


def http_date(seconds_from_now: float) -> str:
    """Return an HTTP date ``seconds_from_now`` in the future."""
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextmanager
def serving_bulk(folder: Path, **options: Any) -> Iterator[BulkServer]:
    """Serve ``folder`` as a Bulk Data server on a free port for the ``with`` block."""
    server = BulkServer(folder, **options)
    http: BaseWSGIServer = make_server(
        "127.0.0.1", 0, _app(server), threaded=True, request_handler=_Quiet
    )
    server.origin = f"http://127.0.0.1:{http.server_port}"
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        http.shutdown()
        http.server_close()
        thread.join(timeout=5)
