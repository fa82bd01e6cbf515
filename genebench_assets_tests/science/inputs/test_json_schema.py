"""First jsonschema problem of a document as one line: where, field path, value."""

from genebench_assets.science.inputs.json_schema import PRESENT, first_problem, render_path

SCHEMA = {
    "type": "object", "x-record": True, "x-message": "must be a mapping, got {type} {value}",
    "required": ["name", "items"],
    "properties": {
        "name": {**PRESENT, "type": "string", "x-message": "must be text, got {value}"},
        "items": {"type": "array", "x-message": "must be a list, got {type} {value}",
                  "items": {"type": "object", "x-record": True, "x-message": "must be a mapping, got {value}",
                            "required": ["n"],
                            "properties": {"n": {"type": "integer", "x-message": "must be a whole number, got {value}"}}}},
    },
}


def test_valid_document_has_no_problem():
    assert first_problem(SCHEMA, {"name": "a", "items": [{"n": 1}]}, "f.json") is None


def test_problems_name_where_field_and_value():
    assert first_problem(SCHEMA, [1], "f.json") == "f.json: must be a mapping, got list [1]"
    assert first_problem(SCHEMA, {"items": []}, "f.json") == "f.json: field 'name' is missing or empty"
    assert first_problem(SCHEMA, {"name": "", "items": []}, "f.json") == "f.json: field 'name' is missing or empty"
    assert first_problem(SCHEMA, {"name": "a", "items": 3}, "f.json") == "f.json: field 'items' must be a list, got int 3"
    assert first_problem(SCHEMA, {"name": "a", "items": [{"n": 1.0}]}, "f.json") == \
        "f.json: items[0]: field 'n' must be a whole number, got 1.0"  # 1.0 and True are not whole numbers here
    assert first_problem(SCHEMA, {"name": "a", "items": [{}]}, "f.json") == "f.json: items[0]: field 'n' is missing or empty"
    assert first_problem(SCHEMA, {"name": "a", "items": [5]}, "f.json") == "f.json: field 'items[0]' must be a mapping, got 5"


def test_first_problem_follows_the_schema_property_order_and_is_one_line():
    problem = first_problem(SCHEMA, {"name": 3, "items": 3}, "f.json")
    assert problem == "f.json: field 'name' must be text, got 3" and "\n" not in problem
    assert first_problem(SCHEMA, {"name": "x" * 500, "items": []}, "f.json") is None
    assert len(first_problem(SCHEMA, {"name": "a", "items": "y" * 10_000}, "f.json")) < 200


def test_render_path():
    assert render_path(["missions", "RR-1", "hardware"]) == "missions.RR-1.hardware"
    assert render_path(["studies", 0, "osd"]) == "studies[0].osd"
