"""Signed page links: they open one patient's page for a short time, reveal nothing
without the secret, and resist tampering."""

from __future__ import annotations

import base64
import json
import time

import pytest

from service.pages.links import (
    CLOCK_SKEW_SECONDS,
    PageLinks,
    sign_page_link,
    verify_page_link,
)
from service.settings import SettingError

SECRET = "unit-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
NOW = 1_800_000_000.0


def decoded_payload(token: str) -> bytes:
    """Return what anyone can read from a token: its base64url payload part."""
    part = token.split(".")[0]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_a_token_opens_the_page_of_its_patient() -> None:
    token = sign_page_link("p1", SECRET, 900, now=NOW)
    assert verify_page_link(token, "p1", SECRET, 900, now=NOW + 10)


def test_a_token_is_url_safe_and_short() -> None:
    token = sign_page_link("patient-with-a-long-id-" + "x" * 40, SECRET, 900)
    assert len(token) <= 140
    assert all(c.isalnum() or c in "-_." for c in token)


@pytest.mark.parametrize("patient_id", ["p1", "12345", "demo-transplant"])
def test_the_token_does_not_hold_the_patient_id_in_clear_or_as_a_bare_hash(
    patient_id: str,
) -> None:
    import hashlib

    token = sign_page_link(patient_id, SECRET, 900)
    readable = decoded_payload(token).decode("utf-8")
    assert patient_id not in readable
    # the signature is random-looking base64: a short id may occur in it by chance
    # (about 2 % of tokens contain "p1"), so only the readable part is searched
    assert patient_id not in token.split(".")[0]
    digest, lifetime = json.loads(readable)
    assert lifetime == 900
    bare = hashlib.sha256(patient_id.encode()).digest()
    assert digest != base64.urlsafe_b64encode(bare).rstrip(b"=").decode()
    assert digest != hashlib.sha256(patient_id.encode()).hexdigest()


def test_two_secrets_give_different_digests_for_the_same_patient() -> None:
    one = json.loads(decoded_payload(sign_page_link("p1", SECRET, 900)))[0]
    other = json.loads(decoded_payload(sign_page_link("p1", SECRET + "!", 900)))[0]
    assert one != other


def test_another_patients_token_does_not_verify() -> None:
    token = sign_page_link("p2", SECRET, 900, now=NOW)
    assert not verify_page_link(token, "p1", SECRET, 900, now=NOW)


def test_a_token_expires_after_its_max_age() -> None:
    token = sign_page_link("p1", SECRET, 900, now=NOW)
    assert verify_page_link(token, "p1", SECRET, 900, now=NOW + 900)
    assert not verify_page_link(token, "p1", SECRET, 900, now=NOW + 901)


def test_the_shorter_of_issued_and_configured_lifetime_applies() -> None:
    short = sign_page_link("p1", SECRET, 60, now=NOW)
    assert not verify_page_link(short, "p1", SECRET, 900, now=NOW + 61)
    long = sign_page_link("p1", SECRET, 3600, now=NOW)
    assert not verify_page_link(long, "p1", SECRET, 900, now=NOW + 901)


def test_a_zero_lifetime_token_is_good_only_within_its_second() -> None:
    token = sign_page_link("p1", SECRET, 0, now=NOW)
    assert verify_page_link(token, "p1", SECRET, 900, now=NOW)
    assert not verify_page_link(token, "p1", SECRET, 900, now=NOW + 1)


def test_a_token_from_a_clock_slightly_ahead_is_accepted_but_not_from_the_future() -> None:
    token = sign_page_link("p1", SECRET, 900, now=NOW + CLOCK_SKEW_SECONDS)
    assert verify_page_link(token, "p1", SECRET, 900, now=NOW)
    future = sign_page_link("p1", SECRET, 900, now=NOW + CLOCK_SKEW_SECONDS + 5)
    assert not verify_page_link(future, "p1", SECRET, 900, now=NOW)


def test_a_token_signed_with_another_secret_does_not_verify() -> None:
    token = sign_page_link("p1", "x" * 40, 900, now=NOW)
    assert not verify_page_link(token, "p1", SECRET, 900, now=NOW)


def test_a_re_signed_payload_with_a_longer_lifetime_does_not_verify() -> None:
    token = sign_page_link("p1", SECRET, 60, now=NOW)
    payload, rest = token.split(".", 1)
    digest, _ = json.loads(decoded_payload(token))
    forged = base64.urlsafe_b64encode(json.dumps([digest, 99999]).encode()).rstrip(b"=")
    assert not verify_page_link(f"{forged.decode()}.{rest}", "p1", SECRET, 900, now=NOW)


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "a.b.c", "x" * 600, "W10.AAAA.BBBB", "..", "e30.e30.e30"],
)
def test_malformed_tokens_are_refused_not_errors(token: str) -> None:
    assert not verify_page_link(token, "p1", SECRET, 900)


def test_a_negative_lifetime_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        sign_page_link("p1", SECRET, -1)


def test_a_real_clock_token_round_trips() -> None:
    token = sign_page_link("p1", SECRET, 900)
    assert verify_page_link(token, "p1", SECRET, 900)
    assert not verify_page_link(token, "p1", SECRET, 900, now=time.time() + 1000)


# --- settings --------------------------------------------------------------------------------


def test_links_read_their_settings() -> None:
    links = PageLinks.from_config(
        {"PAGE_LINK_SECRET": f"  {SECRET}  ", "PAGE_LINK_MAX_AGE_SECONDS": "300"}, required=True
    )
    assert links.secret == SECRET.encode()
    assert links.max_age_seconds == 300
    token = links.token_for_card("p1")
    assert token is not None
    assert links.verify(token, "p1")
    assert SECRET not in repr(links)


def test_the_default_lifetime_is_fifteen_minutes() -> None:
    assert PageLinks.from_config({"PAGE_LINK_SECRET": SECRET}, required=True).max_age_seconds == 900


def test_without_a_fhir_server_a_random_secret_is_made_and_cards_carry_no_token() -> None:
    links = PageLinks.from_config({}, required=False)
    assert len(links.secret) == 32
    assert links.token_for_card("p1") is None
    assert links.verify(links.sign("p1"), "p1")


def test_a_required_secret_must_be_set() -> None:
    with pytest.raises(SettingError, match="NELM_CDS_PAGE_LINK_SECRET is required"):
        PageLinks.from_config({"PAGE_LINK_SECRET": ""}, required=True)


@pytest.mark.parametrize("secret", ["short", 12345678901234567890123456789012345, " " * 40])
def test_a_weak_or_odd_secret_is_refused(secret: object) -> None:
    with pytest.raises(SettingError, match="NELM_CDS_PAGE_LINK_SECRET"):
        PageLinks.from_config({"PAGE_LINK_SECRET": secret}, required=False)
