"""A CDS Hooks call whose prefetch carries numbers no laboratory value can be (1e400, a
5,000-digit integer, NaN): a card, never a 400 or 500 (issue 9 item 5)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.cdshooks import routes
from tests.cdshooks.conftest import AT, Headers, full_prefetch, hook_body
from tests.cli.hostile import observations_text, searchset_text

SERVICE = "/cds-services/nelm-eligibility"


def test_hostile_numbers_in_the_prefetch_still_give_a_card(
    client: FlaskClient, auth: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes, "today", lambda: AT)
    prefetch: dict[str, Any] = full_prefetch("demo-transplant")
    body = hook_body("demo-transplant", prefetch)
    hostile = searchset_text(observations_text("demo-transplant"))
    text = json.dumps(body).replace(json.dumps(prefetch["observations"]), hostile)
    assert "NaN" in text
    response = client.post(
        SERVICE, data=text, content_type="application/json", headers=auth(SERVICE)
    )
    assert response.status_code == 200, response.get_json()
    [card] = response.get_json()["cards"]
    assert card["summary"]
