"""JSON Schema validation of input documents (catalog, question bank) with one-line messages.

`first_problem(schema, document, where)` validates with `jsonschema` and turns the first problem (in
the order of the schema's top-level `properties`) into one line naming the file (`where`), the field
path and the value, in the message vocabulary of the guarded readers:

- a subschema's `x-message` says what the value must be (`{type}` and `{value}` are filled in, the
  value quoted and cut short); a problem below it (e.g. `expected.flight`) is reported at its level;
- a `required` property missing from a subschema marked `x-record`, or a property whose `not`
  refuses it (`{"not": {"enum": [null, ""]}}`), is "is missing or empty" (or the record's
  `x-required-message`, `{missing}` filled in with every missing property);
- `integer` means a Python int, not a bool and not a float such as 1.0 (a count in YAML).
"""

from __future__ import annotations

from typing import Any

import jsonschema

from genebench_assets.science.inputs.guarded_files import short

MISSING = "is missing or empty"
PRESENT = {"not": {"enum": [None, ""]}}  # required and neither null nor empty text


def _is_integer(_checker, value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer))


def render_path(elements) -> str:
    """['missions', 'RR-1', 'hardware'] -> missions.RR-1.hardware; ['studies', 0] -> studies[0]."""
    out = ""
    for e in elements:
        out += f"[{e}]" if isinstance(e, int) else (f".{e}" if out else str(e))
    return out


def _at(document: Any, path) -> Any:
    for e in path:
        document = document[e]
    return document


def _walk(schema: dict, error: jsonschema.ValidationError):
    """(innermost subschema with x-message, instance elements consumed to reach it, keyword that consumed
    the last one, the subschema holding the failing keyword)."""
    keys = list(error.absolute_schema_path)[:-1]  # the last one is the failing keyword itself
    node, consumed, via = schema, 0, None
    best = (node, 0, None) if "x-message" in node else (None, 0, None)
    i = 0
    while i < len(keys):
        k = keys[i]
        if k in ("properties", "patternProperties"):
            node, consumed, via, i = node[k][keys[i + 1]], consumed + 1, k, i + 2
        elif k in ("items", "additionalProperties"):
            node, consumed, via, i = node[k], consumed + 1, k, i + 1
        elif k in ("allOf", "anyOf", "oneOf", "prefixItems"):
            node, i = node[k][keys[i + 1]], i + 2
        elif k == "not":
            node, i = node[k], i + 1
        else:
            break
        if "x-message" in node:
            best = (node, consumed, via)
    return (*best, node)


def _order_key(schema: dict, error: jsonschema.ValidationError) -> int:
    names = list(schema.get("properties", {}))
    path = list(error.absolute_path)
    if path:
        first = path[0]
    elif error.validator == "required":
        first = next((n for n in error.validator_value if n not in error.instance), None)
    else:
        return -1
    return names.index(first) if first in names else len(names)


def describe(schema: dict, document: Any, error: jsonschema.ValidationError, where: str) -> str:
    """One line: `where[: record path]: field 'name' <what it must be>, got <value>`."""
    path = list(error.absolute_path)
    msg_node, consumed, via, failing = _walk(schema, error)
    if error.validator == "required" and failing.get("x-record"):
        missing = [n for n in error.validator_value if n not in error.instance]
        record, field = path, missing[0]
        message = failing.get("x-required-message", MISSING).format(missing=", ".join(missing))
    elif error.validator == "not" and path:
        record, field, message = path[:-1], path[-1], MISSING
    else:
        if msg_node is None:  # a schema without a message for this place: jsonschema's own words
            msg_node, consumed, via = {"x-message": error.message.replace("{", "{{").replace("}", "}}")}, len(path), None
        inst = path[:consumed]
        value = _at(document, inst)
        message = msg_node["x-message"].format(type=type(value).__name__, value=short(value))
        if not inst:
            record, field = [], None
        elif via == "properties":
            record, field = inst[:-1], inst[-1]
        else:
            record, field = [], render_path(inst)
    head = f"{where}: {render_path(record)}" if record else where
    return f"{head}: field '{field}' {message}" if field is not None else f"{head}: {message}"


def first_problem(schema: dict, document: Any, where: str) -> str | None:
    """The first problem of `document` against `schema` as one line, or None when it is valid."""
    errors = list(Validator(schema).iter_errors(document))
    if not errors:
        return None
    errors.sort(key=lambda e: (_order_key(schema, e), len(e.absolute_path)))
    return describe(schema, document, errors[0], where)
