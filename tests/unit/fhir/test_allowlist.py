"""Allowlist: base URLs normalised; foreign or unsafe URLs refused before any request."""

from __future__ import annotations

import pytest
import responses

from service.fhir import Allowlist, BearerToken, FhirClient, FhirUrlNotAllowedError, parse_url
from tests.conftest import FHIR_SERVICE_SETTINGS

ALLOWED = Allowlist(["https://EHR.example.org:443/fhir/", "http://localhost:8090/fhir"])


@pytest.mark.parametrize(
    "url",
    [
        "https://ehr.example.org/fhir",
        "https://ehr.example.org/fhir/",
        "HTTPS://EHR.EXAMPLE.ORG/fhir",
        "https://ehr.example.org./fhir",
        "https://ehr.example.org/fhir/r4",
        "http://localhost:8090/fhir",
    ],
)
def test_urls_at_or_below_an_entry_are_allowed(url: str) -> None:
    assert ALLOWED.check(url).host in ("ehr.example.org", "localhost")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://evil.example.com/fhir", "allowlist"),
        ("https://ehr.example.org.evil.com/fhir", "allowlist"),
        ("https://ehr.example.org:8443/fhir", "allowlist"),
        ("https://ehr.example.org/fhirx", "allowlist"),
        ("https://ehr.example.org/", "allowlist"),
        ("http://localhost:9000/fhir", "allowlist"),
        ("http://ehr.example.org/fhir", "plain http"),
        ("https://user:secret@ehr.example.org/fhir", "credentials"),
        ("https://ehr.example.org@evil.com/fhir", "credentials"),
        ("https://ehr.example.org/fhir/../admin", "'..'"),
        ("https://ehr.example.org/fhir/%2e%2e/admin", "'..'"),
        ("https://ehr.example.org/fhir/%2E%2E/admin", "'..'"),
        ("https://ehr.example.org/fhir/..%2fadmin", "encoded slash"),
        ("https://ehr.example.org/fhir//Patient", "empty"),
        ("https://ehr.example.org/fhir\\..\\admin", "backslashes"),
        ("https://ehr.example.org/fhir?x=1", "query string"),
        ("https://ehr.example.org/fhir#frag", "fragment"),
        ("ftp://ehr.example.org/fhir", "http and https"),
        ("file:///etc/passwd", "http and https"),
        ("https://ehr.example.org:99999/fhir", "port"),
        ("https:///fhir", "host"),
        ("https://ehr.example.org/fhir\n", "control"),
        ("https://ехр.example.org/fhir", "ASCII"),
    ],
)
def test_foreign_and_unsafe_urls_are_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(FhirUrlNotAllowedError, match=reason) as caught:
        ALLOWED.check(url)
    assert "?" not in (caught.value.url or "")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8090/fhir", "http://127.8.9.1/fhir", "http://[::1]:8090/fhir"]
)
def test_plain_http_is_accepted_for_loopback_only(url: str) -> None:
    assert parse_url(url).scheme == "http"


def test_parsed_urls_make_the_default_port_explicit_and_drop_the_trailing_slash() -> None:
    parsed = parse_url("https://EHR.example.org/fhir/")
    assert (parsed.scheme, parsed.host, parsed.port, parsed.path) == (
        "https",
        "ehr.example.org",
        443,
        "/fhir",
    )
    assert str(parsed) == "https://ehr.example.org/fhir"


def test_entries_are_normalised() -> None:
    assert ALLOWED.base_urls == ("https://ehr.example.org/fhir", "http://localhost:8090/fhir")


def test_a_bad_entry_fails_at_start_up_naming_it() -> None:
    with pytest.raises(ValueError, match="'http://ehr.example.org/fhir'.*plain http"):
        Allowlist(["https://ok.example.org/fhir", "http://ehr.example.org/fhir"])


def test_an_empty_allowlist_allows_nothing() -> None:
    with pytest.raises(FhirUrlNotAllowedError):
        Allowlist([]).check("https://ehr.example.org/fhir")


def test_membership_reads_as_a_question() -> None:
    assert "https://ehr.example.org/fhir/Patient/1?x=y" in ALLOWED
    assert "https://evil.example.com/fhir" not in ALLOWED


def test_a_client_for_a_foreign_host_is_refused_before_any_call() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get("https://evil.example.com/fhir/Patient/p1", json={"resourceType": "Patient"})
        with pytest.raises(FhirUrlNotAllowedError, match="not on the FHIR server allowlist"):
            FhirClient(
                "https://evil.example.com/fhir",
                allowlist=ALLOWED,
                auth=BearerToken("secret-token"),
            )
        assert len(rsps.calls) == 0


def test_a_refusal_never_names_the_token() -> None:
    with pytest.raises(FhirUrlNotAllowedError) as caught:
        FhirClient("https://evil.example.com/fhir", allowlist=ALLOWED, auth=BearerToken("s3cr3t"))
    assert "s3cr3t" not in repr(caught.value) + str(caught.value)


def test_plain_http_off_loopback_needs_the_explicit_opt_in() -> None:
    with pytest.raises(ValueError, match="plain http"):
        Allowlist(["http://hapi:8080/fhir"])
    allowlist = Allowlist(["http://hapi:8080/fhir"], allow_http=True)
    assert "http://hapi:8080/fhir/Patient/1" in allowlist
    assert "http://other:8080/fhir/Patient/1" not in allowlist


def test_the_app_reads_the_http_opt_in_from_its_settings() -> None:
    from service.app import create_app

    with pytest.raises(ValueError, match="plain http"):
        create_app(
            {
                "TESTING": True,
                **FHIR_SERVICE_SETTINGS,
                "FHIR_BASE_URL": "http://hapi:8080/fhir",
            }
        )
    app = create_app(
        {
            "TESTING": True,
            **FHIR_SERVICE_SETTINGS,
            "FHIR_BASE_URL": "http://hapi:8080/fhir",
            "FHIR_ALLOW_HTTP": True,
        }
    )
    assert app.extensions["nelm_source"].name == "fhir"


def test_a_mistyped_http_opt_in_is_refused_not_read_as_false() -> None:
    from service.app import create_app

    with pytest.raises(ValueError, match="NELM_CDS_FHIR_ALLOW_HTTP must be true or false"):
        create_app(
            {
                "TESTING": True,
                "FHIR_BASE_URL": "http://hapi:8080/fhir",
                "FHIR_ALLOW_HTTP": "ture",
                **FHIR_SERVICE_SETTINGS,
            }
        )
