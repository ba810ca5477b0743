"""``python -m service cds-call``: discovery, then one ``patient-view`` call, cards printed.

Exit status: 0 when the service answered the hook (cards or none); 1 when it refused or
failed (one line on stderr says why); 2 for bad arguments.

With no options it signs as the development client (key in the instance folder,
trusted by a service running on the embedded demo store) and prefetches from the
embedded demo patients, so ``python3 manage.py run`` then ``python -m service cds-call``
shows a card.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Mapping
from typing import Any, TextIO

from service.cdsclient import diagnose
from service.cdsclient.http import HttpAnswer, UnreachableError, request
from service.cdsclient.options import default_service_url
from service.cdsclient.prefetch import (
    DemoBundleSource,
    FhirServerSource,
    PrefetchError,
    build_prefetch,
)
from service.cdsclient.render import render_cards, render_services
from service.cdsclient.signing import ClientKey, read_client_key, sign_call
from service.dev_issuer import DEV_ISSUER, ensure_dev_key
from service.fhir import FhirUrlNotAllowedError
from service.instance import instance_path

__all__ = ["BadArgumentsError", "CallFailedError", "run"]

HOOK = "patient-view"
PREFERRED_SERVICE = "nelm-eligibility"
FHIR_SCOPE = "patient/Patient.rs patient/Observation.rs patient/Condition.rs patient/Procedure.rs"


class CallFailedError(Exception):
    """The service refused or failed; the message is the one-line reason."""


class BadArgumentsError(ValueError):
    """The options cannot work together; exit status 2."""


def _service_base(args: argparse.Namespace) -> str:
    settings = args.settings
    base = (args.service or default_service_url(settings.PUBLIC_BASE_URL, settings.PORT)).strip()
    base = base.rstrip("/")
    return base.removesuffix("/cds-services")


def _client_key(args: argparse.Namespace) -> tuple[ClientKey, bool]:
    """Return the signing key and whether it is the development client's."""
    if args.key is None:
        if args.kid or args.iss:
            raise BadArgumentsError("--kid and --iss go with --key")
        dev = ensure_dev_key(instance_path(args.instance_path or args.settings.INSTANCE_PATH))
        return ClientKey(DEV_ISSUER, dev.kid, dev.private_key, jku=args.jku), True
    if not args.kid or not args.iss:
        raise BadArgumentsError("--key needs --kid and --iss")
    try:
        private_key = read_client_key(args.key)
    except ValueError as exc:
        raise BadArgumentsError(str(exc)) from exc
    return ClientKey(args.iss, args.kid, private_key, jku=args.jku), False


class _Session:
    """Calls to one CDS Service, each with a fresh JWT for its exact URL."""

    def __init__(self, base: str, key: ClientKey, development: bool, timeout: float) -> None:
        self.base = base
        self.key = key
        self.development = development
        self.timeout = timeout

    def send(self, method: str, path: str, body: Any = None) -> HttpAnswer:
        url = self.base + path
        token = sign_call(self.key, url)
        try:
            return request(
                method,
                url,
                headers={"Authorization": f"Bearer {token}"},
                body=body,
                timeout=self.timeout,
            )
        except UnreachableError as exc:
            raise CallFailedError(
                f"cannot reach the service ({exc}): is it running? "
                "(python3 manage.py run starts it on http://127.0.0.1:8080)"
            ) from exc

    def refused(self, answer: HttpAnswer, fhir_server: str | None = None) -> CallFailedError:
        if answer.status == 401:
            reason = diagnose.explain_unauthorized(
                answer,
                base_url=self.base,
                iss=self.key.iss,
                kid=self.key.kid,
                development=self.development,
            )
        elif answer.status == 412:
            body = answer.json()
            message = body.get("message") or body.get("detail") if isinstance(body, dict) else None
            reason = diagnose.explain_precondition(str(message or "no detail"), fhir_server)
        else:
            reason = diagnose.explain_failure(answer)
        return CallFailedError(f"refused: {reason}")


def _check_origin(session: _Session, origin: str) -> str | None:
    try:
        preflight = request(
            "OPTIONS",
            session.base + "/cds-services",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
            timeout=session.timeout,
        )
    except UnreachableError as exc:
        raise CallFailedError(f"cannot reach the service ({exc})") from exc
    return diagnose.explain_cors(preflight, origin)


def _choose_service(discovery: Any) -> dict[str, Any]:
    services = discovery.get("services") if isinstance(discovery, dict) else None
    candidates = [
        s for s in (services if isinstance(services, list) else []) if isinstance(s, dict)
    ]
    hooked = [s for s in candidates if s.get("hook") == HOOK and isinstance(s.get("id"), str)]
    for service in hooked:
        if service["id"] == PREFERRED_SERVICE:
            return service
    if hooked:
        return hooked[0]
    raise CallFailedError(f"discovery lists no service for the {HOOK} hook")


def _hook_body(args: argparse.Namespace, service: Mapping[str, Any], log: TextIO) -> dict[str, Any]:
    context = {"userId": args.user, "patientId": args.patient}
    body: dict[str, Any] = {
        "hook": HOOK,
        "hookInstance": str(uuid.uuid4()),
        "context": context,
    }
    if args.fhir_server:
        body["fhirServer"] = args.fhir_server.rstrip("/")
        if args.token:
            body["fhirAuthorization"] = {
                "access_token": args.token,
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": FHIR_SCOPE,
                "subject": "cds-call",
            }
    templates = service.get("prefetch")
    if args.prefetch == "none" or not isinstance(templates, dict):
        print("prefetch: none (the service fetches what it needs)", file=log)
        return body
    body["prefetch"] = _prefetch(args, templates, context, log)
    return body


def _prefetch(
    args: argparse.Namespace,
    templates: Mapping[str, Any],
    context: Mapping[str, str],
    log: TextIO,
) -> dict[str, Any]:
    wanted = {k: v for k, v in templates.items() if isinstance(v, str)}
    try:
        if args.fhir_server:
            source = FhirServerSource(
                args.fhir_server.rstrip("/"), token=args.token, allow_http=args.allow_http
            )
            where = args.fhir_server
            try:
                prefetch = build_prefetch(wanted, context, source)
            finally:
                source.close()
        else:
            prefetch = build_prefetch(wanted, context, DemoBundleSource())
            where = "the embedded demo patients"
    except FhirUrlNotAllowedError as exc:
        raise BadArgumentsError(f"--fhir-server: {exc.message}") from exc
    except ValueError as exc:  # the allowlist refuses the URL (e.g. http off loopback)
        raise BadArgumentsError(f"--fhir-server: {exc}") from exc
    except PrefetchError as exc:
        raise CallFailedError(f"prefetch failed: {exc}") from exc
    counts = ", ".join(f"{key} {_count(value)}" for key, value in prefetch.items())
    print(f"prefetch from {where}: {counts}", file=log)
    if "patient" in prefetch and prefetch["patient"] is None:
        # Otherwise a mistyped id looks like a correct answer with nothing to say.
        hint = " (GET /api/patients lists them)" if not args.fhir_server else ""
        print(f"note: no Patient/{context.get('patientId')} in {where}{hint}", file=log)
    return prefetch


def _count(value: Any) -> str:
    if value is None:
        return "null"
    if value.get("resourceType") == "Bundle":
        return str(len(value.get("entry", [])))
    return "1"


def _call(args: argparse.Namespace, out: TextIO, log: TextIO) -> int:
    key, development = _client_key(args)
    session = _Session(_service_base(args), key, development, args.timeout)
    who = "the development client" if development else f"iss {key.iss}"
    print(f"calling {session.base} as {who} (kid {key.kid}, {key.alg})", file=log)
    cors_problem = _check_origin(session, args.origin) if args.origin else None
    if args.origin:
        print(cors_problem or f"CORS: a browser page at {args.origin} may call", file=log)
    answer = session.send("GET", "/cds-services")
    if answer.status != 200:
        raise session.refused(answer)
    discovery = answer.json()
    service = _choose_service(discovery)
    print(
        f"discovery: {answer.status} ({answer.elapsed_ms:.0f} ms)\n{render_services(discovery)}",
        file=log,
    )
    body = _hook_body(args, service, log)
    answer = session.send("POST", f"/cds-services/{service['id']}", body)
    if answer.status != 200:
        raise session.refused(answer, body.get("fhirServer"))
    result = answer.json()
    cards = result.get("cards") if isinstance(result, dict) else None
    if not isinstance(cards, list):
        raise CallFailedError("the service's answer has no cards list")
    print(
        f"{HOOK} {args.patient}: {answer.status} ({answer.elapsed_ms:.0f} ms), "
        f"{len(cards)} card{'s' if len(cards) != 1 else ''}",
        file=log,
    )
    if args.json:
        out.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write("\n" + render_cards(cards) + "\n")
    if cors_problem:
        print(f"error: {cors_problem}", file=sys.stderr)
        return 1
    return 0


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run ``cds-call``; return the exit status."""
    out = out or sys.stdout
    log = sys.stderr if args.json else out
    try:
        return _call(args, out, log)
    except BadArgumentsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except CallFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
