"""Validating 360Giving data against the standard's schema files, offline.

The package schema points at the grant schema by URL; both are served here from the copies in
tests/reference/360giving (unchanged from ThreeSixtyGiving/standard, CC BY 4.0: see its
README), with formats checked (date-time included) as 360Giving's own validator does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SCHEMAS = Path(__file__).resolve().parent / "reference" / "360giving"


def validator() -> Draft202012Validator:
    package = json.loads((SCHEMAS / "360-giving-package-schema.json").read_text())
    # Their `$schema` says http://, which `referencing` does not recognise: name the draft.
    grant = DRAFT202012.create_resource(
        json.loads((SCHEMAS / "360-giving-schema.json").read_text())
    )
    registry: Registry = Registry().with_resources(
        [(package["properties"]["grants"]["items"]["$ref"], grant), (grant.id() or "", grant)]
    )
    return Draft202012Validator(package, registry=registry, format_checker=FormatChecker())


def problems(data: Any) -> list[str]:
    """Every validation error, as `path: message` (empty when the data is valid)."""
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator().iter_errors(data)
    ]
