"""Why a SMART launch failed; the message is shown to the clinician on an HTML page.

Exception tree::

    ServiceError
    └── SmartLaunchError         400  bad launch or callback (unknown state, no patient...)
        ├── SmartNotConfiguredError  404  no ``SMART_CLIENT_ID``: SMART launch is off
        ├── SmartUpstreamError       502  the EHR's servers failed or answered unusably
        └── SmartStateError          503  the shared store cannot keep the launch now

Messages never hold a token, a code, a state, a verifier or a patient id.
"""

from __future__ import annotations

from service.errors import ServiceError

__all__ = [
    "SmartLaunchError",
    "SmartNotConfiguredError",
    "SmartStateError",
    "SmartUpstreamError",
]


class SmartLaunchError(ServiceError):
    """The launch cannot go on; the clinician should open the app again from the EHR."""

    status_code = 400
    code = "smart_launch_failed"


class SmartNotConfiguredError(SmartLaunchError):
    """SMART launch is not set up on this service (no ``SMART_CLIENT_ID``)."""

    status_code = 404
    code = "not_found"


class SmartUpstreamError(SmartLaunchError):
    """The EHR's FHIR or authorization server could not be used."""

    status_code = 502
    code = "bad_gateway"


class SmartStateError(SmartLaunchError):
    """The shared store (pending launches, sessions) cannot be written right now."""

    status_code = 503
    code = "service_unavailable"
