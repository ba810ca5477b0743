"""Every setting of the service, declared once: its type, default and meaning.

:class:`Settings` is read from the environment (``NELM_CDS_<NAME>``, case-insensitive;
an empty value counts as unset) by :func:`service.config.loading.load_settings`, once at
start-up, and handed down; no other module reads the environment for a setting. Values
are parsed by their declared type only: a secret or any other text is kept as the text
given (never decoded as JSON), a number must be a number, a flag true/false (also
yes/no, on/off, 1/0). Rules that involve several settings or outside resources (a
FHIR server needs a page-link secret in production, an issuer table must be valid JSON,
a key file must be readable) are checked where the setting is used, when the app is
built, with a :class:`~service.config.readers.SettingError` naming the variable.

The README's configuration table is generated from this class
(:mod:`service.config.table`), and a test keeps them equal.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_FHIR_SCOPE", "DEFAULT_SMART_SCOPE", "ENV_PREFIX", "Settings"]

ENV_PREFIX = "NELM_CDS_"

DEFAULT_FHIR_SCOPE = (
    "system/Patient.rs system/Observation.rs system/Condition.rs "
    "system/Procedure.rs system/RiskAssessment.c system/RiskAssessment.u "
    "system/RiskAssessment.rs"
)
DEFAULT_SMART_SCOPE = (
    "launch openid fhirUser patient/Patient.rs patient/Observation.rs "
    "patient/Condition.rs patient/Procedure.rs"
)
MAX_DEADLINE_SECONDS = 18
"""A request's FHIR deadline stays below gunicorn's 20 s worker timeout."""


def _shown(text: str) -> dict[str, Any]:
    """The default as the README table shows it, when the value alone says too little."""
    return {"shown_default": text}


class Settings(BaseSettings):
    """The service's settings; attribute ``X`` is the environment variable ``NELM_CDS_X``
    and the Flask config key ``X`` (:meth:`flask_config`)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        case_sensitive=False,
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
        validate_default=True,
    )

    # --- the run ---------------------------------------------------------------------------
    ENV: Literal["auto", "production", "development"] = Field(
        "auto",
        description="`production` requires every secret to be set; `development` generates "
        "missing development secrets into the instance folder, with a warning; `auto`: "
        "development when bound to a loopback host (`127.0.0.1`, `localhost`, `::1`), else "
        "production",
    )
    HOST: str = Field("127.0.0.1", description="where `serve` and the container listen")
    PORT: int = Field(8080, ge=1, le=65535, description="the port `serve` listens on")
    WORKERS: int = Field(
        0,
        ge=0,
        le=64,
        description="gunicorn workers (`0`: 2 × CPUs + 1, at most 8)",
        json_schema_extra=_shown("2 × CPUs + 1 (≤ 8)"),
    )
    GUNICORN_CONTROL_SOCKET: str | None = Field(
        None,
        description="give this instance a gunicorn control socket at this path",
        json_schema_extra=_shown("none (no control socket)"),
    )
    INSTANCE_PATH: str | None = Field(
        None,
        description="instance files: feedback store, state, development keys",
        json_schema_extra=_shown("`instance/` beside the code"),
    )
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="log level of the JSON logs"
    )
    PUBLIC_BASE_URL: str | None = Field(
        None,
        description="the URL EHRs reach the service at (JWT audiences, card and page links)",
        json_schema_extra=_shown("`http://<host>:<port>` served (`0.0.0.0` → `127.0.0.1`)"),
    )
    DEMO_TODAY: date | None = Field(
        None,
        description='pins the demo patients\' "today" (YYYY-MM-DD); their dates are moved '
        "relative to it",
        json_schema_extra=_shown("today (UTC)"),
    )

    # --- the criteria ----------------------------------------------------------------------
    BILIRUBIN_UPPER_LIMIT_MG_DL: Decimal = Field(
        Decimal("1.2"),
        gt=0,
        allow_inf_nan=False,
        description="bilirubin upper limit of normal when the Observation has no "
        "`referenceRange.high`",
    )
    MAX_ECOG_FOR_SURGERY: int = Field(
        2, ge=0, le=5, description="highest ECOG still fit for major surgery"
    )
    LAB_FRESHNESS_DAYS: int = Field(
        90,
        ge=0,
        le=36_500,
        description="how old a bilirubin or platelet count may be (that many days is still fresh)",
    )
    SITE_CODES: str | None = Field(
        None,
        description="JSON file of local codes (below); also `--site-codes` on the command line",
    )

    # --- the FHIR server -------------------------------------------------------------------
    FHIR_BASE_URL: str | None = Field(
        None,
        description="the FHIR R4 server to read patients from",
        json_schema_extra=_shown("none (demo store)"),
    )
    FHIR_ALLOWLIST: str | None = Field(
        None,
        description="comma-separated FHIR base URLs the service may call",
        json_schema_extra=_shown("the base URL"),
    )
    FHIR_ALLOW_HTTP: bool = Field(
        False,
        description="allow plain http to a non-loopback FHIR server (a private network only)",
    )
    FHIR_TOKEN: SecretStr | None = Field(
        None, description="static bearer token for the FHIR server"
    )
    FHIR_CLIENT_ID: str | None = Field(None, description="SMART Backend Services: client id")
    FHIR_PRIVATE_KEY_FILE: str | None = Field(
        None, description="SMART Backend Services: the private key (PEM file)"
    )
    FHIR_KEY_ID: str | None = Field(None, description="SMART Backend Services: the key's `kid`")
    FHIR_ALG: Literal["RS384", "ES384"] = Field(
        "RS384", description="SMART Backend Services: the signing algorithm"
    )
    FHIR_TOKEN_URL: str | None = Field(
        None,
        description="SMART Backend Services: the token endpoint",
        json_schema_extra=_shown("discovered from the server"),
    )
    FHIR_SCOPE: str = Field(
        DEFAULT_FHIR_SCOPE,
        description="SMART Backend Services: the scopes asked for",
        json_schema_extra=_shown("read the four inputs, write RiskAssessment"),
    )
    FHIR_CONNECT_TIMEOUT: float = Field(
        3.05, gt=0, allow_inf_nan=False, description="seconds to connect, on every FHIR call"
    )
    FHIR_READ_TIMEOUT: float = Field(
        10.0, gt=0, allow_inf_nan=False, description="seconds to read, on every FHIR call"
    )
    FHIR_RETRIES: int = Field(2, ge=0, le=10, description="retries for 429/502/503/504")
    FHIR_DEADLINE_SECONDS: float = Field(
        15.0,
        gt=0,
        le=MAX_DEADLINE_SECONDS,
        allow_inf_nan=False,
        description="all FHIR work of one REST or page request (below the 20 s worker timeout)",
    )
    CDS_DEADLINE_SECONDS: float = Field(
        5.0,
        gt=0,
        le=MAX_DEADLINE_SECONDS,
        allow_inf_nan=False,
        description="all FHIR work of one CDS Hooks call",
    )

    # --- limits and metrics ----------------------------------------------------------------
    MAX_BUNDLE_BYTES: int = Field(
        10 * 1024 * 1024,
        gt=0,
        description="largest body read (posted Bundle, hook request); 413 beyond",
        json_schema_extra=_shown("`10485760` (10 MiB)"),
    )
    MAX_BUNDLE_ENTRIES: int = Field(
        10_000, gt=0, description="most entries in a posted Bundle; 413 beyond"
    )
    METRICS: Literal["open", "token", "off"] = Field(
        "open",
        description="`/metrics`: `open` (anyone who reaches it), `token` (bearer "
        "`METRICS_TOKEN`) or `off` (404)",
    )
    METRICS_TOKEN: SecretStr | None = Field(
        None, description="the bearer token `/metrics` wants with `METRICS=token` (32+ characters)"
    )

    # --- REST API access tokens ------------------------------------------------------------
    API_AUTH: Literal["jwt", "none"] = Field(
        "jwt",
        description="`none` serves the REST API without tokens (explicit; warns at every start)",
    )
    API_ISSUERS: str | None = Field(
        None,
        description="trusted authorization servers for REST access tokens, JSON (required "
        "with a FHIR server unless `API_AUTH=none`)",
    )
    API_AUDIENCE: str | None = Field(
        None,
        description="the `aud` REST access tokens must hold",
        json_schema_extra=_shown("the public base URL"),
    )
    API_JKU_ALLOWLIST: str | None = Field(
        None, description="where a configured API `jku` may point (comma-separated prefixes)"
    )
    API_CLOCK_SKEW_SECONDS: int = Field(60, ge=0, description="leeway on API token times")

    # --- CDS Hooks -------------------------------------------------------------------------
    CDS_ISSUERS: str | None = Field(
        None, description="trusted CDS clients and their keys, JSON (see above)"
    )
    CDS_JKU_ALLOWLIST: str | None = Field(
        None, description="where a CDS client's `jku` may point (comma-separated prefixes)"
    )
    CDS_CLOCK_SKEW_SECONDS: int = Field(60, ge=0, description="leeway on CDS token times")
    CDS_MAX_TOKEN_LIFETIME_SECONDS: int = Field(
        300, gt=0, description="longest `exp - iat` a CDS token may have"
    )
    CDS_REQUIRE_JTI: bool = Field(True, description="CDS tokens must carry a fresh `jti`")
    CDS_JWKS_TIMEOUT_SECONDS: float = Field(
        3.0, gt=0, allow_inf_nan=False, description="timeout of a remote JWK Set fetch"
    )
    CDS_JWKS_CACHE_SECONDS: float = Field(
        300.0, gt=0, allow_inf_nan=False, description="how long a fetched JWK Set is kept"
    )
    CDS_JWKS_MIN_REFRESH_SECONDS: float = Field(
        10.0, ge=0, allow_inf_nan=False, description="least time between two fetches of one"
    )
    CDS_CORS_ORIGINS: str = Field(
        "", description="browser origins allowed on the CDS Hooks routes (comma-separated)"
    )
    FEEDBACK_DB: str | None = Field(
        None,
        description="CDS Hooks feedback store",
        json_schema_extra=_shown("`instance/feedback.sqlite3`"),
    )

    # --- shared state, audit, page links, SMART ---------------------------------------------
    REDIS_URL: SecretStr | None = Field(
        None,
        description="shared state in Redis, for several replicas (may hold a password)",
        json_schema_extra=_shown("none (SQLite file)"),
    )
    STATE_DB: str | None = Field(
        None,
        description="shared state of the workers (replay cache, SMART launches and sessions, "
        "fetched keys)",
        json_schema_extra=_shown("`instance/state.sqlite3`"),
    )
    STATE_ENCRYPTION_KEY: SecretStr | None = Field(
        None,
        description="Fernet key(s) sealing SMART tokens at rest; required for SMART with a "
        "FHIR server in production",
        json_schema_extra=_shown("none (demo and development: generated)"),
    )
    AUDIT_HMAC_KEY: SecretStr | None = Field(
        None,
        description="keys the patient hashes in the audit trail (32+ characters); required "
        "with a FHIR server",
        json_schema_extra=_shown("none (demo: generated)"),
    )
    AUDIT_LOG_FILE: str | None = Field(
        None,
        description="append audit lines to this file",
        json_schema_extra=_shown("none (stderr)"),
    )
    PAGE_LINK_SECRET: SecretStr | None = Field(
        None,
        description="signs clinician-page links (32+ characters, the same on every replica); "
        "required with a FHIR server in production",
        json_schema_extra=_shown("none (demo: random; development: generated)"),
    )
    PAGE_LINK_MAX_AGE_SECONDS: int = Field(
        900, gt=0, description="how long a clinician-page link stays valid"
    )
    SMART_CLIENT_ID: str | None = Field(
        None,
        description="SMART App Launch: the client id the EHR registered (none: launch is off)",
    )
    SMART_CLIENT_SECRET: SecretStr | None = Field(
        None, description="SMART App Launch: the secret of a confidential client"
    )
    SMART_REDIRECT_URI: str | None = Field(
        None,
        description="SMART App Launch: the registered redirect URI",
        json_schema_extra=_shown("public base URL + `/smart/callback`"),
    )
    SMART_SCOPE: str = Field(
        DEFAULT_SMART_SCOPE,
        description="SMART App Launch: the scopes asked for (must include `launch`)",
        json_schema_extra=_shown("`launch openid fhirUser` + patient read scopes"),
    )

    @field_validator("LOG_LEVEL", "FHIR_ALG", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("ENV", "METRICS", "API_AUTH", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    def flask_config(self) -> dict[str, Any]:
        """Return the settings as Flask config keys and plain values (secrets as text)."""
        values: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            values[name] = value.get_secret_value() if isinstance(value, SecretStr) else value
        return values
