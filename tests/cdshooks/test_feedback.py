"""CDS Hooks feedback: validated, stored once, durable, countable per outcome."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.cdshooks.feedback import FeedbackError, FeedbackStore, parse_feedback
from tests.cdshooks.conftest import FEEDBACK, SERVICE, AppFactory, Headers, full_prefetch, hook_body

CARD = "4e0a3a1e-3283-4575-ab82-028d55fe2719"
OTHER_CARD = "9368d37b-283f-44a0-93ea-547cebab93ed"


def accepted(card: str = CARD, at: str = "2026-11-22T10:00:00Z") -> dict[str, Any]:
    return {"card": card, "outcome": "accepted", "outcomeTimestamp": at}


def overridden(card: str = CARD, at: str = "2026-11-22T10:05:00Z", **reason: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"card": card, "outcome": "overridden", "outcomeTimestamp": at}
    if reason:
        item["overrideReason"] = reason
    return item


def send(client: FlaskClient, auth: Headers, *items: dict[str, Any]) -> Any:
    return client.post(FEEDBACK, json={"feedback": list(items)}, headers=auth(FEEDBACK))


def store_of(app: Flask) -> FeedbackStore:
    store: FeedbackStore = app.extensions["nelm_cds_feedback"]
    return store


def card_reason(card: dict[str, Any]) -> dict[str, Any]:
    reason: dict[str, Any] = card["overrideReasons"][0]
    return reason


# --- the endpoint ----------------------------------------------------------------------


def test_feedback_on_a_card_from_the_service_is_stored_and_counted(
    app: Flask, client: FlaskClient, auth: Headers
) -> None:
    response = client.post(
        SERVICE,
        json=hook_body("demo-transplant", full_prefetch("demo-transplant")),
        headers=auth(SERVICE),
    )
    card = response.get_json()["cards"][0]["uuid"]
    reason: dict[str, Any] = {
        "reason": card_reason(response.get_json()["cards"][0]),
        "userComment": "MDT on Fri",
    }
    answer = send(client, auth, accepted(card), overridden(card, **reason))
    assert answer.status_code == 200
    assert answer.get_json() == {"stored": 2, "duplicates": 0}
    assert store_of(app).counts(card=card) == {"accepted": 1, "overridden": 1}
    assert store_of(app).counts(service="nelm-eligibility")["overridden"] == 1


def test_repeating_the_same_feedback_stores_it_once(
    app: Flask, client: FlaskClient, auth: Headers
) -> None:
    assert send(client, auth, accepted()).get_json() == {"stored": 1, "duplicates": 0}
    assert send(client, auth, accepted()).get_json() == {"stored": 0, "duplicates": 1}
    # the same instant written another way is the same feedback
    again = send(client, auth, accepted(at="2026-11-22T11:00:00+01:00"))
    assert again.get_json() == {"stored": 0, "duplicates": 1}
    assert store_of(app).counts() == {"accepted": 1, "overridden": 0}


def test_the_same_card_at_another_time_is_new_feedback(
    app: Flask, client: FlaskClient, auth: Headers
) -> None:
    send(client, auth, overridden(at="2026-11-22T10:05:00Z"))
    send(client, auth, overridden(at="2026-11-23T08:00:00Z"))
    assert store_of(app).counts(card=CARD) == {"accepted": 0, "overridden": 2}


def test_override_reasons_are_counted_and_comments_are_not_kept(
    app: Flask, client: FlaskClient, auth: Headers, tmp_path: Path
) -> None:
    reason = {"system": "https://example.org/reasons", "code": "already-discussed"}
    send(
        client,
        auth,
        overridden(CARD, reason=reason, userComment="Mrs Example declined"),
        overridden(OTHER_CARD, reason=reason),
        overridden(OTHER_CARD, at="2026-11-24T00:00:00Z", userComment="no coded reason"),
    )
    assert store_of(app).override_reasons() == [
        ("https://example.org/reasons", "already-discussed", 2)
    ]
    with sqlite3.connect(tmp_path / "feedback.sqlite3") as connection:
        dump = "\n".join(connection.iterdump())
    assert "Mrs Example" not in dump


def test_feedback_survives_a_restart(make_app: AppFactory, auth: Headers) -> None:
    first = make_app()
    send(first.test_client(), auth, accepted())
    second = make_app()
    assert store_of(second).counts() == {"accepted": 1, "overridden": 0}
    assert send(second.test_client(), auth, accepted()).get_json()["duplicates"] == 1


def test_feedback_for_an_unknown_service_is_404(client: FlaskClient, auth: Headers) -> None:
    path = "/cds-services/no-such-service/feedback"
    response = client.post(path, json={"feedback": [accepted()]}, headers=auth(path))
    assert response.status_code == 404


def test_feedback_without_a_token_is_401(client: FlaskClient) -> None:
    response = client.post(FEEDBACK, json={"feedback": [accepted()]})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


MALFORMED: dict[str, Any] = {
    "not-an-object": [accepted()],
    "no-feedback": {},
    "empty-feedback": {"feedback": []},
    "item-not-an-object": {"feedback": ["accepted"]},
    "card-not-a-uuid": {"feedback": [accepted(card="card-1")]},
    "unknown-outcome": {"feedback": [{**accepted(), "outcome": "ignored"}]},
    "no-timestamp": {"feedback": [{"card": CARD, "outcome": "accepted"}]},
    "timestamp-without-zone": {"feedback": [accepted(at="2026-11-22T10:00:00")]},
    "timestamp-a-date": {"feedback": [accepted(at="2026-11-22")]},
    "reason-on-accepted": {"feedback": [{**accepted(), "overrideReason": {"userComment": "why"}}]},
    "reason-not-a-coding": {"feedback": [overridden(reason="already-discussed")]},
    "reason-without-code": {"feedback": [overridden(reason={"system": "https://x.example"})]},
    "suggestions-not-a-list": {"feedback": [{**accepted(), "acceptedSuggestions": "s1"}]},
    "suggestion-without-id": {"feedback": [{**accepted(), "acceptedSuggestions": [{}]}]},
    "too-many-items": {
        "feedback": [accepted(at=f"2026-11-22T10:00:{s:02d}Z") for s in range(60)] * 2
    },
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_feedback_is_400_and_stores_nothing(
    app: Flask, client: FlaskClient, auth: Headers, body: Any
) -> None:
    response = client.post(FEEDBACK, json=body, headers=auth(FEEDBACK))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_feedback"
    assert store_of(app).counts() == {"accepted": 0, "overridden": 0}


def test_one_bad_item_rejects_the_whole_post(
    app: Flask, client: FlaskClient, auth: Headers
) -> None:
    response = send(client, auth, accepted(), {**accepted(OTHER_CARD), "outcome": "maybe"})
    assert response.status_code == 400
    assert response.get_json()["field"] == "feedback[1].outcome"
    assert store_of(app).counts() == {"accepted": 0, "overridden": 0}


# --- parsing and the store ----------------------------------------------------------------


def test_accepted_suggestions_are_optional_for_a_card_without_suggestions() -> None:
    (item,) = parse_feedback({"feedback": [accepted()]})
    assert item.accepted_suggestions == ()
    (item,) = parse_feedback({"feedback": [{**accepted(), "acceptedSuggestions": [{"id": "s-1"}]}]})
    assert item.accepted_suggestions == ("s-1",)


def test_timestamps_are_kept_in_utc() -> None:
    (item,) = parse_feedback({"feedback": [accepted(at="2026-11-22T11:30:00.250+01:00")]})
    assert item.outcome_timestamp == "2026-11-22T10:30:00.250000+00:00"


def test_parse_errors_name_the_field() -> None:
    with pytest.raises(FeedbackError) as caught:
        parse_feedback({"feedback": [accepted(), overridden(reason={"code": 7})]})
    assert caught.value.to_dict()["field"] == "feedback[1].overrideReason.reason.code"


def test_the_store_creates_its_file_on_first_use_only(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "feedback.sqlite3"
    store = FeedbackStore(path)
    assert not path.exists()
    assert store.counts() == {"accepted": 0, "overridden": 0}
    assert path.exists()


def test_the_default_store_lives_in_the_instance_folder(tmp_path: Path) -> None:
    store = FeedbackStore.from_config({"FEEDBACK_DB": None}, str(tmp_path))
    assert store.path == tmp_path / "feedback.sqlite3"


def test_an_unwritable_store_answers_503_not_500(
    make_app: AppFactory, auth: Headers, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    client = make_app(FEEDBACK_DB=str(blocker / "feedback.sqlite3")).test_client()
    response = send(client, auth, accepted())
    assert response.status_code == 503
    assert response.get_json()["error"] == "feedback_store_unavailable"
