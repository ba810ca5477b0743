"""Configuration in one typed place.

:mod:`~service.config.model` declares every setting (type, default, meaning);
:mod:`~service.config.loading` reads them from the environment once at start-up and turns
a bad value into one line (exit status 2 at every entry point);
:mod:`~service.config.readers` checks a value taken from the Flask config (which tests may
set directly); :mod:`~service.config.table` renders the README's table.
"""

from service.config.loading import (
    EXIT_BAD_SETTING,
    exit_on_setting_error,
    fail_in_one_line,
    is_production,
    load_settings,
)
from service.config.model import DEFAULT_FHIR_SCOPE, DEFAULT_SMART_SCOPE, ENV_PREFIX, Settings
from service.config.readers import SettingError, setting_name

__all__ = [
    "DEFAULT_FHIR_SCOPE",
    "DEFAULT_SMART_SCOPE",
    "ENV_PREFIX",
    "EXIT_BAD_SETTING",
    "SettingError",
    "Settings",
    "defaults",
    "exit_on_setting_error",
    "fail_in_one_line",
    "is_production",
    "load_settings",
    "setting_name",
]


def defaults(*names: str) -> dict[str, object]:
    """Return the declared defaults of ``names`` as Flask config values (for a module's
    own ``*_DEFAULTS``, used when an app is built without :func:`load_settings`)."""
    fields = Settings.model_fields
    unknown = [name for name in names if name not in fields]
    if unknown:
        raise KeyError(f"not settings: {', '.join(unknown)}")
    return {name: fields[name].default for name in names}
