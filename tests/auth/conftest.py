"""REST API token fixtures: a local OpenID-Connect-like issuer and apps that trust it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from service.app import create_app
from tests.auth.issuer_server import IssuerServer, serving_issuer

BASE = "https://nelm.example.org"
READ = "nelm/evaluations.read"
WRITE = "nelm/risk-assessments.write"

AppFactory = Callable[..., Flask]


@pytest.fixture(scope="module")
def idp() -> Iterator[IssuerServer]:
    """The authorization server, for the module."""
    with serving_issuer() as server:
        yield server


@pytest.fixture
def make_app(idp: IssuerServer) -> AppFactory:
    """Apps on the demo store trusting ``idp`` by discovery (keyword args override)."""

    def factory(**overrides: Any) -> Flask:
        config: dict[str, Any] = {
            "TESTING": True,
            "PUBLIC_BASE_URL": BASE,
            "API_ISSUERS": json.dumps([idp.issuer]),
            **overrides,
        }
        return create_app(config)

    return factory


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return make_app()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
