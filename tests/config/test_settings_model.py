"""The typed settings: each bad value is one line naming the variable and what it expects;
text (secrets included) is kept as given; the README table is the model's."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import SettingError, is_production, load_settings
from service.config.table import settings_table

README = Path(__file__).resolve().parents[2] / "README.md"

BAD_VALUES = [
    ("PORT", "abc", "NELM_CDS_PORT must be a whole number"),
    ("PORT", "70000", "NELM_CDS_PORT must be at most 65535"),
    ("WORKERS", "-1", "NELM_CDS_WORKERS must be 0 or more"),
    ("LAB_FRESHNESS_DAYS", "3 months", "NELM_CDS_LAB_FRESHNESS_DAYS must be a whole number"),
    ("FHIR_READ_TIMEOUT", "soon", "NELM_CDS_FHIR_READ_TIMEOUT must be a number"),
    ("FHIR_READ_TIMEOUT", "0", "NELM_CDS_FHIR_READ_TIMEOUT must be greater than 0"),
    ("FHIR_RETRIES", "-1", "NELM_CDS_FHIR_RETRIES must be 0 or more"),
    ("FHIR_CONNECT_TIMEOUT", "nan", "NELM_CDS_FHIR_CONNECT_TIMEOUT must be a finite number"),
    ("FHIR_DEADLINE_SECONDS", "30", "NELM_CDS_FHIR_DEADLINE_SECONDS must be at most 18"),
    (
        "BILIRUBIN_UPPER_LIMIT_MG_DL",
        "high",
        "NELM_CDS_BILIRUBIN_UPPER_LIMIT_MG_DL must be a number",
    ),
    ("CDS_REQUIRE_JTI", "perhaps", "NELM_CDS_CDS_REQUIRE_JTI must be true or false"),
    ("FHIR_ALLOW_HTTP", "2", "NELM_CDS_FHIR_ALLOW_HTTP must be true or false"),
    ("METRICS", "sometimes", "NELM_CDS_METRICS must be one of open, token or off"),
    ("ENV", "staging", "NELM_CDS_ENV must be one of auto, production or development"),
    (
        "LOG_LEVEL",
        "loud",
        "NELM_CDS_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR or CRITICAL",
    ),
    ("DEMO_TODAY", "tomorrow", "NELM_CDS_DEMO_TODAY must be a date YYYY-MM-DD"),
]


@pytest.mark.parametrize(("name", "value", "expected"), BAD_VALUES)
def test_a_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(f"NELM_CDS_{name}", value)
    with pytest.raises(SettingError) as caught:
        load_settings()
    message = str(caught.value)
    assert message == expected or message.startswith(f"{expected} ")
    assert "\n" not in message
    if not value.lstrip("-").isdigit():
        assert value not in message  # the value given is never echoed


def test_every_bad_value_is_named_in_the_same_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NELM_CDS_PORT", "abc")
    monkeypatch.setenv("NELM_CDS_METRICS", "sometimes")
    with pytest.raises(SettingError) as caught:
        load_settings()
    assert str(caught.value) == (
        "NELM_CDS_PORT must be a whole number; NELM_CDS_METRICS must be one of open, token or off"
    )


def test_a_bad_value_that_looks_like_a_secret_is_not_echoed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NELM_CDS_PAGE_LINK_MAX_AGE_SECONDS", "hunter2-secret-value")
    with pytest.raises(SettingError) as caught:
        load_settings()
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    "secret",
    [
        "123456789012345678901234567890123456",  # all digits: JSON would make it a number
        '{"not": "an object"}-padding-to-32-chars',
        "true",
        "null",
        "  spaced secret kept as text, 32+ characters  ",
    ],
)
def test_text_settings_are_kept_as_text_never_decoded(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("NELM_CDS_PAGE_LINK_SECRET", secret)
    monkeypatch.setenv("NELM_CDS_FHIR_TOKEN", secret)
    monkeypatch.setenv("NELM_CDS_SMART_CLIENT_ID", secret)
    config = load_settings().flask_config()
    assert config["PAGE_LINK_SECRET"] == secret
    assert config["FHIR_TOKEN"] == secret
    assert config["SMART_CLIENT_ID"] == secret


def test_secrets_do_not_show_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PAGE_LINK_SECRET", "AUDIT_HMAC_KEY", "FHIR_TOKEN", "METRICS_TOKEN"):
        monkeypatch.setenv(f"NELM_CDS_{name}", f"{name.lower()}-do-not-print-0123456789")
    monkeypatch.setenv("NELM_CDS_REDIS_URL", "redis://:do-not-print@127.0.0.1:6379/0")
    shown = repr(load_settings()) + str(load_settings())
    assert "do-not-print" not in shown


def test_an_empty_value_is_unset_and_names_are_case_insensitive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NELM_CDS_PORT", "")
    monkeypatch.setenv("NELM_CDS_API_ISSUERS", "")
    monkeypatch.setenv("nelm_cds_lab_freshness_days", "30")
    monkeypatch.setenv("NELM_CDS_METRICS", " OFF ")
    settings = load_settings()
    assert settings.PORT == 8080
    assert settings.API_ISSUERS is None
    assert settings.LAB_FRESHNESS_DAYS == 30
    assert settings.METRICS == "off"


def test_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NELM_CDS_PORT", "9000")
    assert load_settings(PORT=9001).PORT == 9001
    with pytest.raises(SettingError, match="NELM_CDS_PORT must be a whole number"):
        load_settings(PORT="x")


@pytest.mark.parametrize(
    ("env", "host", "production"),
    [
        ("auto", "127.0.0.1", False),
        ("auto", "localhost", False),
        ("auto", "::1", False),
        ("auto", "0.0.0.0", True),
        ("auto", "10.1.2.3", True),
        ("production", "127.0.0.1", True),
        ("development", "0.0.0.0", False),
    ],
)
def test_production_is_explicit_or_a_bind_beyond_loopback(
    env: str, host: str, production: bool
) -> None:
    assert is_production(load_settings(ENV=env, HOST=host)) is production
    assert is_production({"ENV": env, "HOST": host}) is production


def test_the_readme_configuration_table_is_the_settings_model() -> None:
    readme = README.read_text(encoding="utf-8")
    assert settings_table() in readme, (
        "README.md's configuration table differs from service/config/model.py: paste the "
        "output of `python -m service.config` over it"
    )


def test_every_setting_is_documented() -> None:
    from service.config import Settings

    for name, field in Settings.model_fields.items():
        assert field.description, name
        assert name.isupper(), name


def test_an_unknown_variable_is_named_in_a_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from service.app import create_app
    from service.config.loading import unknown_variables

    monkeypatch.setenv("NELM_CDS_LAB_FRESHNES_DAYS", "30")  # a typo
    monkeypatch.setenv("NELM_CDS_STARTUP_LOGGED", "0")  # the service's own marker
    assert unknown_variables() == ["NELM_CDS_LAB_FRESHNES_DAYS"]
    create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path)})
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(m.startswith("NELM_CDS_LAB_FRESHNES_DAYS is not a setting") for m in warned)
