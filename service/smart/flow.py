"""The SMART EHR launch as plain logic: begin (launch URL → authorization URL) and
complete (callback → session), without Flask.

Decisions, with the reason:

- ``iss`` must be on the FHIR allowlist before anything is fetched from it or anyone
  is sent to it: the launch URL is reachable by anyone, and an unlisted ``iss`` would
  make the service fetch and redirect on an attacker's say.
- PKCE S256 always. A ``.well-known/smart-configuration`` whose
  ``code_challenge_methods_supported`` lacks ``S256`` is refused (SMART 2.x requires it
  and forbids ``plain``; asking a server for a method it says it lacks would fail
  later, less clearly). A document without the field (SMART 1.0 servers) is accepted
  with a warning in the log, and S256 is sent anyway: a server that ignores PKCE
  ignores the extra parameters, one that supports it checks them.
- ``state`` (256 random bits) is single use and expires after :data:`STATE_TTL`
  seconds; it is also bound to the browser that started the launch (a random value in
  a cookie scoped to the callback), so a callback URL made in one browser cannot plant
  a session, and patient, in another (SMART: tie ``state`` to the user's session).
- The token response must name a ``patient`` (the service is about one patient); the
  session lasts ``expires_in`` seconds (:data:`DEFAULT_TOKEN_LIFETIME` when the server
  does not say, at most :data:`MAX_SESSION_LIFETIME`).
- Pending launches and sessions live in the shared store (:mod:`service.state`), sealed
  (:class:`~service.smart.store.SealedRecords`): every worker and replica sees them, so
  the steps of a launch and the page loads after it may land on any of them. Fetched
  SMART configurations are cached per process.

Nothing here logs a token, a code, a state, a verifier or a patient id.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from service.fhir import (
    FhirError,
    FhirTokenRefusedError,
    FhirUnavailableError,
    FhirUrlNotAllowedError,
    SmartConfiguration,
    TokenResponse,
    exchange_code,
    smart_configuration,
)
from service.mappers.reading import is_fhir_id
from service.smart.context import SESSION_ID, SmartContext
from service.smart.errors import (
    SmartLaunchError,
    SmartNotConfiguredError,
    SmartStateError,
    SmartUpstreamError,
)
from service.smart.id_token import IdTokenError, IdTokenValidator
from service.smart.pkce import METHOD, new_verifier, s256_challenge
from service.smart.settings import SmartSettings
from service.smart.store import ExpiringStore, SealedRecords
from service.smart.style import smart_style
from service.state.base import MemoryStore, SharedStore, StoreUnavailableError
from service.state.sealing import Sealer

__all__ = [
    "CONFIG_TTL",
    "DEFAULT_TOKEN_LIFETIME",
    "MAX_SESSION_LIFETIME",
    "STATE_TTL",
    "SmartLaunchFlow",
    "SmartSettings",
    "new_browser_binding",
]

STATE_TTL = 600.0
"""Seconds a launch may take from the launch URL to the callback."""
CONFIG_TTL = 300.0
"""Seconds a server's ``.well-known/smart-configuration`` is reused."""
DEFAULT_TOKEN_LIFETIME = 3600.0
"""Session lifetime when the token response has no ``expires_in`` (SMART: tokens SHOULD
live at most an hour)."""
MAX_SESSION_LIFETIME = 12 * 3600.0
MAX_PENDING = 10_000
MAX_SESSIONS = 10_000
MAX_CONFIGS = 64
MAX_PARAM_CHARS = 4096

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _PendingLaunch:
    iss: str
    fhir_base_url: str
    token_endpoint: str
    code_verifier: str = field(repr=False)
    binding: str = field(repr=False)
    created: float
    nonce: str = field(default="", repr=False)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> _PendingLaunch | None:
        try:
            pending = cls(**record)
        except TypeError:
            return None
        texts = (pending.iss, pending.fhir_base_url, pending.token_endpoint)
        secrets_ = (pending.code_verifier, pending.binding, pending.nonce)
        ok = all(isinstance(t, str) for t in (*texts, *secrets_))
        return pending if ok and isinstance(pending.created, int | float) else None


def new_browser_binding() -> str:
    """Return a new random value that ties launches to one browser (kept in a cookie)."""
    return secrets.token_urlsafe(32)


def _plain(value: str | None, name: str) -> str:
    if not value or len(value) > MAX_PARAM_CHARS or not value.isprintable():
        raise SmartLaunchError(f"the launch needs a {name} parameter (printable, not too long)")
    return value


def _with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return parts._replace(query=urlencode(query)).geturl()


def _shown_error(error: str) -> str:
    code = error.strip()
    safe = len(code) <= 64 and code.replace("_", "").replace("-", "").replace(".", "").isalnum()
    return code if safe and code.isascii() else "an unnamed error"


class SmartLaunchFlow:
    """Begin and complete SMART EHR launches; hold pending launches and sessions.

    ``store`` is the shared store pending launches and sessions go to (default: this
    process's memory, for tests), ``sealer`` what seals them (default: a random key, so
    only this process can read them). ``clock`` is seconds since the epoch (tests pass a
    fake one). Raises :class:`SmartLaunchError` (or a subclass) with a message for the
    clinician.
    """

    def __init__(
        self,
        settings: SmartSettings,
        *,
        store: SharedStore | None = None,
        sealer: Sealer | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.settings = settings
        self._clock = clock
        store = store if store is not None else MemoryStore(clock=clock)
        sealer = sealer if sealer is not None else Sealer.generate()
        self._pending = SealedRecords(store, "smart-pending", sealer, max_entries=MAX_PENDING)
        self._sessions = SealedRecords(store, "smart-session", sealer, max_entries=MAX_SESSIONS)
        self._configs: ExpiringStore[SmartConfiguration] = ExpiringStore(
            max_entries=MAX_CONFIGS, clock=clock
        )
        self._id_tokens = IdTokenValidator(settings.allowlist, timeout=settings.timeout[1])

    @property
    def enabled(self) -> bool:
        """Say whether SMART launch is set up (``SMART_CLIENT_ID`` is set)."""
        return self.settings.client_id is not None

    def _client_id(self) -> str:
        if self.settings.client_id is None:
            raise SmartNotConfiguredError("SMART launch is not set up on this service")
        return self.settings.client_id

    # --- launch -----------------------------------------------------------------------

    def begin(self, *, iss: str | None, launch: str | None, binding: str) -> str:
        """Return the authorization URL to redirect the browser to for this launch.

        Without ``launch`` it is a standalone launch: the scope asks for
        ``launch/patient`` instead of ``launch``, so the EHR lets the user pick the
        patient. With ``openid`` in the scope a ``nonce`` is sent (and checked in the
        ``id_token``).
        """
        client_id = self._client_id()
        iss = _plain(iss, "iss")
        launch = _plain(launch, "launch") if launch is not None else None
        try:
            base = self.settings.allowlist.check(iss)
        except FhirUrlNotAllowedError as exc:
            log.warning("SMART launch refused: iss not allowed (%s)", exc.message)
            raise SmartLaunchError(
                "this EHR's FHIR server (iss) is not on the service's allowlist"
            ) from exc
        config = self._configuration(str(base))
        verifier, state = new_verifier(), secrets.token_urlsafe(32)
        scope = self.settings.scope.split()
        if launch is None:
            scope = [("launch/patient" if s == "launch" else s) for s in scope]
        nonce = secrets.token_urlsafe(24) if "openid" in scope else ""
        pending = _PendingLaunch(
            iss=iss,
            fhir_base_url=str(base),
            token_endpoint=config.token_endpoint,
            code_verifier=verifier,
            binding=binding,
            created=self._clock(),
            nonce=nonce,
        )
        try:
            self._pending.put(state, asdict(pending), ttl=STATE_TTL)
        except StoreUnavailableError as exc:
            raise SmartStateError("the launch cannot be kept right now; try again") from exc
        log.info(
            "SMART %s launch from %s: redirecting to its authorization server",
            "EHR" if launch is not None else "standalone",
            base.origin,
        )
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": self.settings.redirect_uri,
            **({"launch": launch} if launch is not None else {}),
            "scope": " ".join(scope),
            "state": state,
            "aud": iss,
            "code_challenge": s256_challenge(verifier),
            "code_challenge_method": METHOD,
            **({"nonce": nonce} if nonce else {}),
        }
        return _with_query(config.authorization_endpoint, params)

    def _configuration(self, base_url: str) -> SmartConfiguration:
        cached = self._configs.get(base_url)
        if cached is not None:
            return cached
        try:
            config = smart_configuration(
                base_url, allowlist=self.settings.allowlist, timeout=self.settings.timeout
            )
        except FhirError as exc:
            log.warning("SMART configuration of %s unusable: %s", base_url, exc.message)
            raise SmartUpstreamError(
                "the EHR's SMART configuration (.well-known/smart-configuration) could not be read"
            ) from exc
        methods = config.code_challenge_methods
        if methods is None:
            log.warning(
                "SMART configuration of %s lists no code_challenge_methods_supported; "
                "sending PKCE S256 anyway",
                base_url,
            )
        elif METHOD not in methods:
            log.warning("SMART configuration of %s does not offer PKCE S256", base_url)
            raise SmartUpstreamError("the EHR's authorization server does not offer PKCE S256")
        self._configs.put(base_url, config, ttl=CONFIG_TTL)
        return config

    # --- callback ---------------------------------------------------------------------

    def complete(
        self, *, state: str | None, code: str | None, error: str | None, binding: str | None
    ) -> tuple[str, SmartContext]:
        """Check the callback, exchange the code; return the new session id and context.

        The ``state`` is used up whatever happens next.
        """
        client_id = self._client_id()
        record = self._pending.pop(state) if state and len(state) <= 128 else None
        pending = _PendingLaunch.from_record(record) if record is not None else None
        if pending is not None and pending.created + STATE_TTL <= self._clock():
            pending = None
        if error is not None:
            shown = _shown_error(error)
            log.info("SMART launch ended by the authorization server: %s", shown)
            raise SmartLaunchError(f"the EHR's authorization server ended the launch: {shown}")
        if pending is None:
            raise SmartLaunchError(
                "unknown, expired or already used launch (state); open the app again from the EHR"
            )
        if binding is None or not hmac.compare_digest(pending.binding, binding):
            raise SmartLaunchError(
                "this launch was started in another browser; open the app again from the EHR"
            )
        token = self._exchange(pending, client_id, _plain(code, "code"))
        if token.patient is None:
            raise SmartLaunchError("launch without patient context")
        if not is_fhir_id(token.patient):
            raise SmartUpstreamError("the EHR's patient context is not a valid FHIR id")
        fhir_user = self._identity(token, pending, client_id)
        now = self._clock()
        lifetime = min(token.expires_in or DEFAULT_TOKEN_LIFETIME, MAX_SESSION_LIFETIME)
        context = SmartContext(
            patient_id=token.patient,
            fhir_base_url=pending.fhir_base_url,
            access_token=token.access_token,
            expires_at=datetime.fromtimestamp(now + lifetime, UTC),
            scope=token.scope,
            fhir_user=fhir_user,
            need_patient_banner=token.need_patient_banner is not False,
            style=smart_style(token.smart_style_url, pending.fhir_base_url, self.settings),
        )
        session_id = secrets.token_urlsafe(32)
        try:
            self._sessions.put(session_id, context.to_record(), ttl=lifetime)
        except StoreUnavailableError as exc:
            raise SmartStateError("the session cannot be kept right now; try again") from exc
        log.info("SMART launch from %s completed; session started", pending.fhir_base_url)
        return session_id, context

    def _identity(
        self, token: TokenResponse, pending: _PendingLaunch, client_id: str
    ) -> str | None:
        """Return the user's ``fhirUser`` from the validated ``id_token`` (``None`` when
        none came); an id_token that does not validate ends the launch."""
        if token.id_token is None:
            return None
        issuers = {pending.iss, pending.fhir_base_url}
        try:
            identity = self._id_tokens.validate(
                token.id_token, issuers=issuers, client_id=client_id, nonce=pending.nonce
            )
        except IdTokenError as exc:
            log.warning("SMART launch refused: id_token not valid (%s)", exc)
            raise SmartUpstreamError(
                "the EHR's identity token (id_token) could not be verified; "
                "open the app again from the EHR"
            ) from exc
        return identity.fhir_user

    def _exchange(self, pending: _PendingLaunch, client_id: str, code: str) -> TokenResponse:
        try:
            return exchange_code(
                pending.token_endpoint,
                code=code,
                redirect_uri=self.settings.redirect_uri,
                code_verifier=pending.code_verifier,
                client_id=client_id,
                client_secret=self.settings.client_secret,
                timeout=self.settings.timeout,
                allow_http=self.settings.allowlist.allow_http,
            )
        except FhirTokenRefusedError as exc:
            shown = exc.error_code or "no error code"
            log.warning("SMART token exchange refused (%s, HTTP %s)", shown, exc.status)
            raise SmartLaunchError(
                f"the EHR's authorization server refused the code ({shown}); "
                "open the app again from the EHR"
            ) from exc
        except FhirUnavailableError as exc:
            log.warning("SMART token exchange failed: %s", exc.message)
            raise SmartUpstreamError("the EHR's authorization server could not be reached") from exc
        except FhirError as exc:
            log.warning("SMART token exchange failed: %s", exc.message)
            raise SmartUpstreamError(
                "the EHR's authorization server sent an unusable answer"
            ) from exc

    # --- sessions ---------------------------------------------------------------------

    def context(self, session_id: str) -> SmartContext | None:
        """Return the session's context, or ``None`` when unknown or expired."""
        if not SESSION_ID.fullmatch(session_id):
            return None
        record = self._sessions.get(session_id)
        context = SmartContext.from_record(record) if record is not None else None
        if context is None or context.expires_at.timestamp() <= self._clock():
            return None
        return context

    def end(self, session_id: str) -> None:
        """Forget a session (its token stays valid at the EHR until it expires)."""
        self._sessions.pop(session_id)
