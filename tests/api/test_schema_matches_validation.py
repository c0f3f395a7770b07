"""The OpenAPI schema states what the API enforces (/api/v1/openapi.json): for every operation and every input
(path, query, JSON body), values at the edges of what the API accepts are put both to the schema and to the API.
A value inside the schema is never refused as malformed (no 400: it may still be unknown, 404, or refused by a
rule, 422); a value the API refuses as malformed is outside the schema too, and every value outside the schema is
a 4xx. So a client generated from the schema does not send what is refused: years 2000–2099 (config/clock.py),
ids within their bounds, municipality slugs and facility codes, times of day, page numbers.

The schema is read with a small checker of the JSON Schema keywords the API's inputs use (type, minimum,
maximum, pattern, maxLength, format date/date-time, const, enum, anyOf with null); an input whose schema uses
another keyword fails the test, so that the checker and this test grow with the schema. Candidates are chosen by
the schema of each input (an integer, a date, a slug, a time of day, …); a body needs a good example in
GOOD_BODIES, the one field tried at a time being replaced."""

import datetime as dt
import json
import re

import pytest
import time_machine

from .conftest import at, token_for, unit

pytestmark = pytest.mark.django_db

NOW = at(2027, 5, 12, 10, 0)
KNOWN_KEYWORDS = {
    "type",
    "title",
    "description",
    "minimum",
    "maximum",
    "pattern",
    "maxLength",
    "format",
    "default",
    "const",
    "enum",
    "anyOf",
}

# Candidate values at the edges, per kind of input; the schema decides which of them are inside.
DAYS = ["1999-12-31", "2000-01-01", "2027-05-24", "2099-12-31", "2100-01-01", "2027-02-30", "20270524", "0001-01-01"]
RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
MUNIS = ["kodaira", "a" * 50, "a" * 51, "bad.slug", "小平"]
SLUGS = [*MUNIS, "nakajima"]  # facility codes too
TIMES = ["00:00", "09:00", "23:59", "24:00", "24:01", "9:00", "09:60", "0900", "", "25:00"]
OTHER_VALUES = [None, True, "castle"]  # for enums, constants and nullable fields


def integer_branch(schema) -> dict:
    """The integer schema itself, or its integer branch (``anyOf`` with null: an optional id or weekday)."""
    if schema.get("type") == "integer":
        return schema
    return next(branch for branch in schema.get("anyOf", []) if branch.get("type") == "integer")


def integers(schema) -> list[str]:
    schema = integer_branch(schema)
    low, high = schema["minimum"], schema["maximum"]
    return [str(n) for n in (low - 1, low, low + 1, high - 1, high, high + 1)] + ["1.5", "one"]


def datetimes() -> list[tuple[str, str]]:
    """(start, end) pairs: the same day at 09:00–10:00 Japan time, the end in another year, a naive pair."""
    pairs = [(f"{day}T09:00:00+09:00", f"{day}T10:00:00+09:00") for day in DAYS]
    pairs += [
        ("2099-12-31T23:00:00+09:00", "2100-01-01T00:00:00+09:00"),
        ("1999-12-31T23:00:00+09:00", "2000-01-01T00:00:00+09:00"),
        ("2027-05-24T09:00:00", "2027-05-24T10:00:00"),
    ]
    return pairs


def inside(schema: dict, value) -> bool:
    """Whether ``value`` (URL text for path and query inputs, JSON for the body) satisfies ``schema``."""
    unknown = set(schema) - KNOWN_KEYWORDS
    assert not unknown, f"the checker does not know {unknown}: teach it (schema {schema})"
    if "anyOf" in schema:
        return any(inside(branch, value) for branch in schema["anyOf"])
    if "const" in schema:
        return value == schema["const"] and type(value) is type(schema["const"])
    if "enum" in schema and (isinstance(value, bool) or value not in schema["enum"]):
        return False
    if schema["type"] == "null":
        return value is None
    if schema["type"] == "boolean":
        return isinstance(value, bool)
    if schema["type"] == "integer":
        if isinstance(value, str):
            if not re.fullmatch(r"-?[0-9]+", value):
                return False
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            return False
        return schema.get("minimum", value) <= value <= schema.get("maximum", value)
    assert schema["type"] == "string", schema
    if not isinstance(value, str):
        return False
    if "pattern" in schema and not re.search(schema["pattern"], value):
        return False
    if len(value) > schema.get("maxLength", len(value)):
        return False
    if schema.get("format") == "date":
        return re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value) is not None and _parses(dt.date.fromisoformat, value)
    if schema.get("format") == "date-time":  # RFC 3339: extended form, seconds and an offset required
        return RFC3339.fullmatch(value) is not None and _parses(dt.datetime.fromisoformat, value)
    return True


def _parses(parse, text) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True


@pytest.fixture
def schema(api, demo):
    status, document = api.get("/api/v1/openapi.json")
    assert status == 200
    return document


@pytest.fixture
def request_for(api, demo):
    """Sends one request with the given inputs (the others good) and returns (status, body)."""
    token = token_for("kodaira-group1")
    room = unit("kodaira", "nakajima", "assembly-room")
    good = {
        "muni": "kodaira",
        "unit_id": str(room.id),
        "reservation_id": "1",
        "watch_id": "1",
        "application_id": "1",
        "facility_code": "nakajima",
        "from": "2027-05-24",
        "to": "2027-05-30",
        "page": "1",
    }

    def send(method: str, path_template: str, operation: dict, *, params=None, body=None):
        values = {**good, **(params or {})}
        path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path_template)
        query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        if query:
            path += "?" + "&".join(f"{name}={values[name]}" for name in query)
        headers = {"Authorization": f"Bearer {token}"}
        kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body is not None else {}
        with time_machine.travel(NOW, tick=False):
            response = getattr(api.client, method)(path, headers=headers, **kwargs)
        return response.status_code, json.loads(response.content) if response.content else None

    return send


def good_bodies() -> dict:
    """A body each operation accepts as well-formed (it may still be refused: 404, 409, 422), by schema name."""
    room = unit("kodaira", "nakajima", "assembly-room")
    slot = {"unit_id": room.id, "start": "2027-05-24T13:00:00+09:00", "end": "2027-05-24T17:00:00+09:00"}
    return {
        "ReservationIn": slot,
        "ApplicationIn": slot,
        "SlotWatchIn": {"kind": "slot", **slot},
        "PatternWatchIn": {
            "kind": "pattern",
            "facility_code": "nakajima",
            "time_from": "09:00",
            "time_to": "12:00",
            "date_from": "2027-05-24",
            "date_to": "2027-05-30",
        },
        "FavouriteIn": {"facility_code": "nakajima"},
    }


def body_variants(operation: dict, components: dict) -> list[tuple[str, dict]]:
    """(name, schema) of each body the operation takes: one ``$ref``, or a ``oneOf`` of them (POST /watches)."""
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    refs = [schema["$ref"]] if "$ref" in schema else [variant["$ref"] for variant in schema["oneOf"]]
    return [(ref.rsplit("/", 1)[1], components[ref.rsplit("/", 1)[1]]) for ref in refs]


def candidates_for(schema: dict) -> list:
    """JSON values at the edges for one body field, chosen by its schema."""
    if "const" in schema:  # a discriminator: any other value is another body, or none
        return OTHER_VALUES
    if "enum" in schema or any("enum" in branch for branch in schema.get("anyOf", [])):
        enum = schema.get("enum") or next(b["enum"] for b in schema["anyOf"] if "enum" in b)
        return enum + OTHER_VALUES
    types = {schema.get("type")} | {branch.get("type") for branch in schema.get("anyOf", [])}
    if "integer" in types:
        as_json = [int(v) if re.fullmatch(r"-?[0-9]+", v) else v for v in integers(schema)]
        return [*as_json, True, None, 1.0]
    if schema.get("format") == "date":
        return [*DAYS, None, 20270524]
    if "pattern" in schema and ":" in schema["pattern"]:  # a time of day, HH:MM
        return [*TIMES, None, 900]
    if "pattern" in schema:
        return [*SLUGS, None, 5]
    if schema.get("type") == "boolean":  # accept_terms (issue #21 item 5)
        return [True, False, None, "yes", 1, 0]
    if schema.get("type") == "string" and "maxLength" in schema:  # free text: the purpose of use
        return ["", "練習", "a" * schema["maxLength"], "a" * (schema["maxLength"] + 1), None, 5]
    pytest.fail(f"no candidates for a body field with schema {schema}")


def test_every_operation__schema_and_validation_agree_at_the_edges(schema, request_for):
    checked = []
    mismatches = []

    def judge(operation: str, what: str, value, is_inside: bool, status: int, body: dict):
        checked.append((operation, what))
        if is_inside and status == 400:
            mismatches.append(f"{operation} {what}={value!r} is inside the schema but refused as malformed: {body}")
        elif not is_inside and not 400 <= status < 500:
            mismatches.append(f"{operation} {what}={value!r} is outside the schema but answered {status}")

    components = schema["components"]["schemas"]
    bodies = good_bodies()
    with_input = set()
    for template, operations in schema["paths"].items():
        for method, operation in operations.items():
            name = f"{method.upper()} {template.removeprefix('/api/v1')}"
            variants = body_variants(operation, components) if "requestBody" in operation else []
            first_body = bodies[variants[0][0]] if variants else None
            if operation.get("parameters") or variants:
                with_input.add(name)
            for parameter in operation.get("parameters", []):
                param_schema = parameter["schema"]
                if parameter["name"] == "muni":
                    candidates = MUNIS
                elif param_schema["type"] == "integer":
                    candidates = integers(param_schema)
                elif param_schema.get("format") == "date":
                    candidates = DAYS
                elif "pattern" in param_schema:
                    candidates = SLUGS
                else:
                    pytest.fail(f"{name}: no candidates for parameter {parameter['name']} {param_schema}")
                for value in candidates:
                    params = {parameter["name"]: value}
                    if parameter["name"] in ("from", "to"):  # the other end of the range: the same day
                        params = {"from": value, "to": value}
                    status, body = request_for(method, template, operation, params=params, body=first_body)
                    judge(name, parameter["name"], value, inside(param_schema, value), status, body)
            for body_name, body_schema in variants:
                assert body_name in bodies, f"{name}: a new body {body_name} needs a good example in good_bodies()"
                good_body, properties = bodies[body_name], body_schema["properties"]
                for field, field_schema in properties.items():
                    if field_schema.get("format") == "date-time":
                        continue  # start and end: below, in pairs
                    for value in candidates_for(field_schema):
                        status, body = request_for(method, template, operation, body={**good_body, field: value})
                        judge(f"{name} ({body_name})", field, value, inside(field_schema, value), status, body)
                if {"start", "end"} <= set(properties):
                    for start, end in datetimes():
                        status, body = request_for(
                            method, template, operation, body={**good_body, "start": start, "end": end}
                        )
                        both_inside = inside(properties["start"], start) and inside(properties["end"], end)
                        judge(f"{name} ({body_name})", "start,end", (start, end), both_inside, status, body)

    assert not mismatches, "the schema and the validation disagree:\n" + "\n".join(mismatches)
    operations = {operation.split(" (")[0] for operation, _what in checked}
    assert operations == with_input  # every operation with input (GET /municipalities and GET /me have none)
    assert {
        "POST /{muni}/watches",
        "DELETE /{muni}/watches/{watch_id}",
        "POST /{muni}/favourites",
        "DELETE /{muni}/favourites/{facility_code}",
        "GET /{muni}/notifications",
        "POST /{muni}/lottery/applications",
        "POST /{muni}/lottery/applications/{application_id}/confirm",
    } <= operations
    assert len(operations) >= 15, operations


def test_schema_states_years_ids_and_order(schema):
    """What a client generator reads: the patterns of 2000–2099, integer ids with bounds, end after start."""
    body = schema["components"]["schemas"]["ReservationIn"]
    assert body["properties"]["unit_id"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1, "title": "Unit Id"}
    for name in ("start", "end"):
        assert body["properties"][name]["pattern"].startswith("^20[0-9]{2}-")
    assert "`end` must be after `start`" in body["description"]
    availability = schema["paths"]["/api/v1/{muni}/units/{unit_id}/availability"]["get"]
    dates = {p["name"]: p["schema"] for p in availability["parameters"] if p["in"] == "query"}
    assert dates["from"]["pattern"] == dates["to"]["pattern"] == "^20[0-9]{2}-[0-9]{2}-[0-9]{2}$"
    assert "not before `from`" in dates["to"]["description"]


def test_schema_states_the_bounds_of_the_new_operations(schema):
    """Favourites, alerts, notifications (issue #19 item 7): ids with bounds, dates of 2000–2099, times of day."""
    components = schema["components"]["schemas"]
    pattern = components["PatternWatchIn"]["properties"]
    for name in ("date_from", "date_to"):
        assert pattern[name]["pattern"] == "^20[0-9]{2}-[0-9]{2}-[0-9]{2}$" and pattern[name]["format"] == "date"
    assert pattern["unit_id"]["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    assert pattern["weekday"]["anyOf"][0] == {"type": "integer", "minimum": 0, "maximum": 6}
    assert pattern["time_to"]["pattern"] == "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
    slot = components["SlotWatchIn"]["properties"]
    assert slot["unit_id"]["maximum"] == 2**63 - 1 and slot["start"]["pattern"].startswith("^20[0-9]{2}-")
    paths = schema["paths"]
    watch_id = paths["/api/v1/{muni}/watches/{watch_id}"]["delete"]["parameters"][1]["schema"]
    assert (watch_id["type"], watch_id["minimum"], watch_id["maximum"]) == ("integer", 1, 2**63 - 1)
    page = paths["/api/v1/{muni}/notifications"]["get"]["parameters"][1]["schema"]
    assert (page["type"], page["minimum"], page["maximum"]) == ("integer", 1, 1_000_000)
    code = paths["/api/v1/{muni}/favourites/{facility_code}"]["delete"]["parameters"][1]["schema"]
    assert code["pattern"] == "^[-a-zA-Z0-9_]{1,50}$" and code["maxLength"] == 50
