"""Write ``service/data/r4-elements.json`` from the fhir.resources R4B models.

    python -m tools.generate_r4_structure            # rewrite the data file
    python -m tools.generate_r4_structure --check    # exit 1 if it is out of date

The service validates the resources that decide something with its own small reader
(:mod:`service.mappers.structure`) instead of building pydantic models: that is about
forty times faster and keeps fhir.resources (a few hundred milliseconds to import) out
of every evaluation. The element tables it reads are generated here from the same R4B
models, so the two cannot drift apart silently: ``tests/unit/mappers/test_structure.py``
runs the check above, and compares verdicts with fhir.resources on a corpus.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any

TARGET = Path(__file__).resolve().parents[1] / "service" / "data" / "r4-elements.json"
GENERATED_BY = "python -m tools.generate_r4_structure (do not edit)"
ROOTS = ("Patient", "Observation", "Condition", "Procedure")
"""The resource types the mappers read; every datatype they reach is generated too.
``contained`` resources are the one exception (see :mod:`service.mappers.structure`)."""

_PRIMITIVES = {
    "bool": "boolean",
    "Boolean": "boolean",
    "String": "string",
    "Code": "code",
    "Id": "id",
    "Uri": "uri",
    "Url": "url",
    "Canonical": "canonical",
    "Oid": "oid",
    "Uuid": "uuid",
    "UuidVersion": "uuid",
    "Markdown": "markdown",
    "Xhtml": "xhtml",
    "Base64Binary": "base64Binary",
    "Date": "date",
    "DateTime": "dateTime",
    "Instant": "instant",
    "Time": "time",
    "Decimal": "decimal",
    "Integer": "integer",
    "Integer64": "integer64",
    "PositiveInt": "positiveInt",
    "UnsignedInt": "unsignedInt",
}


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """Return (the element's type, whether it repeats) from a field annotation."""
    repeats = False
    while True:
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            choices = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = choices[0]
        elif origin in (list, typing.List):  # noqa: UP006 (the models use typing.List)
            repeats = True
            annotation = typing.get_args(annotation)[0]
        else:
            return annotation, repeats


def _type_name(annotation: Any) -> str:
    if typing.get_origin(annotation) is typing.Annotated:
        base, *metadata = typing.get_args(annotation)
        names = [type(item).__name__ for item in metadata] + [getattr(base, "__name__", "")]
        for name in names:
            if name in _PRIMITIVES:
                return _PRIMITIVES[name]
        raise ValueError(f"unexpected annotation {annotation!r}")
    name = getattr(annotation, "__name__", str(annotation))
    if name in _PRIMITIVES:
        return _PRIMITIVES[name]
    if name.endswith("Type"):
        return name[: -len("Type")]
    raise ValueError(f"unexpected annotation {annotation!r}")


def _required_choices(model: Any) -> tuple[str, ...]:
    """Return the model's choice groups of which one element must appear (``value[x]``
    of UsageContext)."""
    groups = {
        str(extra["one_of_many"])
        for field in model.model_fields.values()
        if (extra := field.json_schema_extra or {}).get("one_of_many_required")
    }
    return tuple(sorted(groups))


def _elements(model: Any) -> dict[str, tuple[str, bool, bool, str]]:
    """Return JSON name → (type, repeats, required, choice group) for one model."""
    table: dict[str, tuple[str, bool, bool, str]] = {}
    for name, field in model.model_fields.items():
        if name == "fhir_comments" or name == "resource_type":
            continue
        extra = field.json_schema_extra or {}
        annotation, repeats = _unwrap(field.annotation)
        type_name = _type_name(annotation)
        if type_name == "FHIRPrimitiveExtension":
            type_name = "Element"
        required = bool(field.is_required() or extra.get("element_required"))
        group = str(extra.get("one_of_many", ""))
        table[field.alias or name] = (type_name, repeats, required, group)
    return table


Tables = dict[str, dict[str, tuple[str, bool, bool, str]]]


def build() -> tuple[Tables, dict[str, tuple[str, ...]]]:
    """Return the element tables of the root types and every type they reach, and the
    required choice groups by type."""
    from fhir.resources.R4B import get_fhir_model_class

    tables: Tables = {}
    choices: dict[str, tuple[str, ...]] = {}
    pending = list(ROOTS)
    while pending:
        name = pending.pop()
        if name in tables or name in _PRIMITIVES.values() or name in ("Resource", "Element"):
            continue
        model = get_fhir_model_class(name)
        tables[name] = _elements(model)
        if required := _required_choices(model):
            choices[name] = required
        pending.extend(spec[0] for spec in tables[name].values())
    tables["Element"] = {
        "id": ("string", False, False, ""),
        "extension": ("Extension", True, False, ""),
    }
    return dict(sorted(tables.items())), dict(sorted(choices.items()))


def render(tables: Tables, choices: dict[str, tuple[str, ...]]) -> str:
    """Return the data file's text: JSON, one element per line (readable diffs).

    ``elements[type][json name] = [type, repeats, required, choice group]``: the types are
    the R4B models' (fhir.resources); the choice group names a ``value[x]``-style element
    of which at most one may appear; ``Element`` is a primitive's ``_name``.
    ``required_choices[type]`` are the choice groups of which one must appear.
    """
    lines = ["{", f'"generated_by": {json.dumps(GENERATED_BY)},', '"elements": {']
    for index, (type_name, table) in enumerate(tables.items()):
        lines.append(f" {json.dumps(type_name)}: {{")
        rows = [f"  {json.dumps(name)}: {json.dumps(list(spec))}" for name, spec in table.items()]
        lines.append(",\n".join(rows))
        lines.append(" }" + ("," if index < len(tables) - 1 else ""))
    lines.append("},")
    lines.append(f'"required_choices": {json.dumps({k: list(v) for k, v in choices.items()})}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    """Write or check the data file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args()
    text = render(*build())
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run python -m tools.generate_r4_structure")
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET} ({len(text) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
