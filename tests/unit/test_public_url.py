"""The public base URL follows the bound host and port unless set."""

from __future__ import annotations

import pytest

from service.public_url import public_base_url
from service.settings import SettingError


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, "http://127.0.0.1:8080"),
        ({"PORT": 9000}, "http://127.0.0.1:9000"),
        ({"PORT": "9000", "HOST": "localhost"}, "http://localhost:9000"),
        ({"HOST": "0.0.0.0", "PORT": 8081}, "http://127.0.0.1:8081"),
        ({"HOST": "::1", "PORT": 8081}, "http://[::1]:8081"),
        ({"PUBLIC_BASE_URL": "https://cds.example.org/", "PORT": 9000}, "https://cds.example.org"),
    ],
)
def test_the_default_is_the_bound_address(config: dict[str, object], expected: str) -> None:
    assert public_base_url(config) == expected


@pytest.mark.parametrize("port", ["abc", 0, 70000, True, "-1"])
def test_a_bad_port_names_the_setting(port: object) -> None:
    with pytest.raises(SettingError, match="NELM_CDS_PORT must be a port number"):
        public_base_url({"PORT": port})


@pytest.mark.parametrize(
    "url", ["ftp://x.example", "https://user@x.example", "https://x.example/?q=1", "nohost"]
)
def test_a_bad_public_url_names_the_setting(url: str) -> None:
    with pytest.raises(SettingError, match="NELM_CDS_PUBLIC_BASE_URL"):
        public_base_url({"PUBLIC_BASE_URL": url})
