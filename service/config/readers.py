"""The setting readers: check one value of the Flask config, naming the setting when it is bad.

The environment is parsed once, typed, by :mod:`service.config.model`; these readers check
what a module takes from ``app.config`` (which ``create_app(test_config=...)`` may also set,
with strings or typed values), so a bad value still names its ``NELM_CDS_<NAME>``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = [
    "SettingError",
    "flag_setting",
    "number_setting",
    "setting_name",
    "text_setting",
]


class SettingError(ValueError):
    """A setting is missing or invalid; the message names it (``NELM_CDS_<NAME>``)."""


def setting_name(name: str) -> str:
    """Return the environment variable that sets config key ``name``."""
    return f"NELM_CDS_{name}"


def text_setting(config: Mapping[str, Any], name: str) -> str | None:
    """Return a string setting stripped, or ``None`` when unset or blank."""
    value = config.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SettingError(f"{setting_name(name)} must be a string")
    return value.strip() or None


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def flag_setting(config: Mapping[str, Any], name: str, default: bool = False) -> bool:
    """Return a yes/no setting; anything but true/false/yes/no/on/off/1/0 is an error."""
    value = config.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise SettingError(f"{setting_name(name)} must be true or false")


def number_setting(
    config: Mapping[str, Any],
    name: str,
    *,
    integer: bool,
    zero_allowed: bool,
    default: float | None = None,
) -> Any:
    """Return a finite, non-negative number setting (an int when ``integer``)."""
    value = config.get(name, default)
    try:
        if isinstance(value, bool):
            raise TypeError(name)
        number = int(value) if integer else float(value)
    except (TypeError, ValueError) as exc:
        kind = "a whole number" if integer else "a number"
        raise SettingError(f"{setting_name(name)} must be {kind}") from exc
    if not math.isfinite(number) or number < 0 or (number == 0 and not zero_allowed):
        rule = "zero or more" if zero_allowed else "positive"
        raise SettingError(f"{setting_name(name)} must be {rule}")
    return number
