"""Short-lived signed links to the clinician page, for EHRs without SMART on FHIR.

**Token design.** A token is an itsdangerous ``URLSafeTimedSerializer`` value, salted
with :data:`SALT`, whose payload is ``[digest, lifetime]``:

- ``digest`` is HMAC-SHA256(``K``, patient id), base64url, where ``K`` is
  SHA-256(:data:`DIGEST_LABEL` + secret): a *keyed* hash, not a bare SHA-256, because
  patient ids are short and guessable (a bare hash could be reversed by trying ids).
  The token never holds the patient id, in clear or encrypted: it can only confirm an id
  that the URL already names, and only with the server's secret.
- ``lifetime`` is the number of seconds the token was issued for; the verifier uses the
  smaller of it and its own ``max_age``.

The serializer adds the issue time (seconds, base64) and an HMAC-SHA256 signature over
both (keyed by the secret and the salt). So without the secret a token is an opaque blob
whose only readable part is *when* it was issued; it cannot be forged, moved to another
patient, or used after it expires. Tokens are bearer credentials: the page sends
``Referrer-Policy: no-referrer`` so they do not leak through links, and never prints them.

Settings (Flask config, environment ``NELM_CDS_<KEY>``):

- ``PAGE_LINK_SECRET``: at least :data:`MIN_SECRET_CHARS` characters; required when a
  FHIR server is configured in production (every replica must share it). In development
  (:func:`service.config.is_production`) a secret is generated once into the instance
  folder, with a warning. With the embedded demo store a random per-process secret is
  used when it is unset.
- ``PAGE_LINK_MAX_AGE_SECONDS`` (900): how long a link stays valid.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from service.config import defaults
from service.config.readers import SettingError

__all__ = [
    "CLOCK_SKEW_SECONDS",
    "DEFAULT_MAX_AGE_SECONDS",
    "DIGEST_LABEL",
    "MIN_SECRET_CHARS",
    "PAGE_LINK_DEFAULTS",
    "SALT",
    "PageLinks",
    "sign_page_link",
    "verify_page_link",
]

SALT = "nelm-cds.clinician-page-link.v1"
"""Separates these signatures from any other use of the same secret."""
DIGEST_LABEL = b"nelm-cds.clinician-page-link.patient-digest.v1\x00"
"""Derives the patient-digest key from the secret (a key separate from the signing key)."""
DEFAULT_MAX_AGE_SECONDS = 900
MIN_SECRET_CHARS = 32
CLOCK_SKEW_SECONDS = 30
"""A token issued by a replica whose clock runs slightly ahead is still accepted."""

PAGE_LINK_DEFAULTS: dict[str, Any] = defaults("PAGE_LINK_SECRET", "PAGE_LINK_MAX_AGE_SECONDS")

Secret = str | bytes

log = logging.getLogger(__name__)


def _development_secret(path: Path) -> bytes:
    from service.state.sealing import dev_key

    try:
        secret = dev_key(path)
    except OSError as exc:
        raise SettingError(f"NELM_CDS_PAGE_LINK_SECRET is unset and {path} cannot be made") from exc
    log.warning(
        "NELM_CDS_PAGE_LINK_SECRET is unset: development mode, page links are signed with "
        "the secret generated in %s (set NELM_CDS_PAGE_LINK_SECRET in production)",
        path,
    )
    return secret.encode("utf-8")


def _patient_digest(patient_id: str, secret: Secret) -> str:
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    key = hashlib.sha256(DIGEST_LABEL + raw).digest()
    mac = hmac.new(key, patient_id.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def _signer_at(now: float | None) -> type[TimestampSigner]:
    if now is None:
        return TimestampSigner
    issued = int(now)

    class _SignerAt(TimestampSigner):
        def get_timestamp(self) -> int:
            return issued

    return _SignerAt


def _serializer(secret: Secret, now: float | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret,
        salt=SALT,
        signer=_signer_at(now),
        signer_kwargs={"digest_method": hashlib.sha256},
    )


def sign_page_link(
    patient_id: str, secret: Secret, max_age_seconds: int, *, now: float | None = None
) -> str:
    """Return a URL-safe token opening ``patient_id``'s page for ``max_age_seconds``.

    ``now`` (seconds since the epoch) stands in for the clock when issuing, for tests.
    """
    if max_age_seconds < 0:
        raise ValueError("max_age_seconds cannot be negative")
    payload = [_patient_digest(patient_id, secret), int(max_age_seconds)]
    return str(_serializer(secret, now).dumps(payload))


def verify_page_link(
    token: str, patient_id: str, secret: Secret, max_age: int, *, now: float | None = None
) -> bool:
    """Say whether ``token`` was signed with ``secret`` for ``patient_id`` and is still
    valid: issued at most ``max_age`` seconds ago (and within the lifetime it was issued
    for). Any malformed, tampered, foreign or expired token is simply ``False``.
    """
    if not token or len(token) > 512:
        return False
    try:
        loaded = _serializer(secret).loads(token, return_timestamp=True)
    except (BadData, ValueError, TypeError):
        return False
    payload, issued_at = loaded
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not isinstance(payload[0], str)
        or not isinstance(payload[1], int)
        or isinstance(payload[1], bool)
    ):
        return False
    digest, lifetime = payload
    clock = time.time() if now is None else now
    age = clock - issued_at.timestamp()
    if age > min(max_age, lifetime) or age < -CLOCK_SKEW_SECONDS:
        return False
    return hmac.compare_digest(digest, _patient_digest(patient_id, secret))


@dataclass(frozen=True)
class PageLinks:
    """The page-link settings of one app: the secret, the lifetime, and whether links
    are needed at all (only when patients come from a FHIR server)."""

    secret: bytes = field(repr=False)
    max_age_seconds: int
    required: bool

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        *,
        required: bool,
        development_key: Path | None = None,
    ) -> PageLinks:
        """Read ``PAGE_LINK_SECRET`` and ``PAGE_LINK_MAX_AGE_SECONDS``; raise
        :class:`SettingError` naming a bad one. ``required``: a FHIR server is
        configured, so the secret must be set (and shared by every replica), unless
        ``development_key`` names the file a development secret is generated into (once;
        every worker reads the same), which is then used with a warning."""
        max_age = config.get("PAGE_LINK_MAX_AGE_SECONDS", DEFAULT_MAX_AGE_SECONDS)
        try:
            if isinstance(max_age, bool):
                raise TypeError
            max_age = int(max_age)
        except (TypeError, ValueError) as exc:
            raise SettingError(
                "NELM_CDS_PAGE_LINK_MAX_AGE_SECONDS must be a whole number of seconds"
            ) from exc
        if max_age <= 0:
            raise SettingError("NELM_CDS_PAGE_LINK_MAX_AGE_SECONDS must be positive")
        value = config.get("PAGE_LINK_SECRET")
        if (value is None or value == "") and required and development_key is not None:
            return cls(_development_secret(development_key), max_age, required)
        if value is None or value == "":
            if required:
                raise SettingError(
                    "NELM_CDS_PAGE_LINK_SECRET is required with a FHIR server "
                    f"(at least {MIN_SECRET_CHARS} random characters, the same on every replica)"
                )
            return cls(secrets.token_bytes(32), max_age, required)
        if not isinstance(value, str) or len(value.strip()) < MIN_SECRET_CHARS:
            raise SettingError(
                f"NELM_CDS_PAGE_LINK_SECRET must be at least {MIN_SECRET_CHARS} characters"
            )
        return cls(value.strip().encode("utf-8"), max_age, required)

    def sign(self, patient_id: str, *, now: float | None = None) -> str:
        """Return a fresh token for ``patient_id``."""
        return sign_page_link(patient_id, self.secret, self.max_age_seconds, now=now)

    def verify(self, token: str, patient_id: str) -> bool:
        """Say whether ``token`` opens ``patient_id``'s page now."""
        return verify_page_link(token, patient_id, self.secret, self.max_age_seconds)

    def token_for_card(self, patient_id: str) -> str | None:
        """Return the token a CDS Hooks card link carries: one when links are required
        (a FHIR server is configured), else ``None`` (the demo pages are open)."""
        return self.sign(patient_id) if self.required else None
