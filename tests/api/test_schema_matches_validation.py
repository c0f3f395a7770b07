"""The OpenAPI schema states what the API enforces (/api/v1/openapi.json): for every operation and every input
(path, query, JSON body), values at the edges of what the API accepts are put both to the schema and to the API.
A value inside the schema is never refused as malformed (no 400: it may still be unknown, 404, or refused by a
rule, 422); a value the API refuses as malformed is outside the schema too, and every value outside the schema is
a 4xx. So a client generated from the schema does not send what is refused: years 2000–2099 (config/clock.py),
ids within their bounds, municipality slugs.

The schema is read with a small checker of the JSON Schema keywords the API's inputs use (type, minimum,
maximum, pattern, maxLength, format date/date-time); an input whose schema uses another keyword fails the test,
so that the checker and this test grow with the schema."""

import datetime as dt
import json
import re

import pytest
import time_machine

from .conftest import at, token_for, unit

pytestmark = pytest.mark.django_db

NOW = at(2027, 5, 12, 10, 0)
KNOWN_KEYWORDS = {"type", "title", "description", "minimum", "maximum", "pattern", "maxLength", "format"}

# Candidate values at the edges, per kind of input; the schema decides which of them are inside.
DAYS = ["1999-12-31", "2000-01-01", "2027-05-24", "2099-12-31", "2100-01-01", "2027-02-30", "20270524", "0001-01-01"]
RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})")
MUNIS = ["kodaira", "a" * 50, "a" * 51, "bad.slug", "小平"]


def integers(schema) -> list[str]:
    low, high = schema["minimum"], schema["maximum"]
    return [str(n) for n in (low - 1, low, low + 1, high - 1, high, high + 1)] + ["1.5", "one"]


def datetimes() -> list[tuple[str, str]]:
    """(start, end) pairs: the same day at 09:00–10:00 Japan time, the end in another year, a naive pair."""
    pairs = [(f"{day}T09:00:00+09:00", f"{day}T10:00:00+09:00") for day in DAYS]
    pairs += [("2099-12-31T23:00:00+09:00", "2100-01-01T00:00:00+09:00"),
              ("1999-12-31T23:00:00+09:00", "2000-01-01T00:00:00+09:00"),
              ("2027-05-24T09:00:00", "2027-05-24T10:00:00")]
    return pairs


def inside(schema: dict, value) -> bool:
    """Whether ``value`` (URL text for path and query inputs, JSON for the body) satisfies ``schema``."""
    unknown = set(schema) - KNOWN_KEYWORDS
    assert not unknown, f"the checker does not know {unknown}: teach it (schema {schema})"
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
    good = {"muni": "kodaira", "unit_id": str(room.id), "reservation_id": "1",
            "from": "2027-05-24", "to": "2027-05-30"}
    good_body = {"unit_id": room.id, "start": "2027-05-24T13:00:00+09:00", "end": "2027-05-24T17:00:00+09:00"}

    def send(method: str, path_template: str, *, params=None, body=None):
        values = {**good, **(params or {})}
        path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path_template)
        query = {k: values[k] for k in ("from", "to")} if "availability" in path_template else {}
        if query:
            path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        payload = {**good_body, **(body or {})} if method == "post" and "cancel" not in path_template else None
        with time_machine.travel(NOW, tick=False):
            return api.call(method.upper(), path, token=token, json_body=payload)

    return send


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
    for path_template, operations in schema["paths"].items():
        template = path_template
        for method, operation in operations.items():
            name = f"{method.upper()} {template.removeprefix('/api/v1')}"
            for parameter in operation.get("parameters", []):
                param_schema = parameter["schema"]
                if parameter["name"] == "muni":
                    candidates = MUNIS
                elif param_schema["type"] == "integer":
                    candidates = integers(param_schema)
                elif param_schema.get("format") == "date":
                    candidates = DAYS
                else:
                    pytest.fail(f"{name}: no candidates for parameter {parameter['name']} {param_schema}")
                for value in candidates:
                    params = {parameter["name"]: value}
                    if parameter["name"] in ("from", "to"):  # the other end of the range: the same day
                        params = {"from": value, "to": value}
                    status, body = request_for(method, template, params=params)
                    judge(name, parameter["name"], value, inside(param_schema, value), status, body)
            if "requestBody" in operation:
                ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                body_schema = components[ref.rsplit("/", 1)[1]]
                properties = body_schema["properties"]
                assert set(properties) == {"unit_id", "start", "end"}, f"{name}: new body fields need candidates"
                for value in integers(properties["unit_id"]) + [1, 0, 2**63, True, None]:
                    value = int(value) if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value) else value
                    status, body = request_for(method, template, body={"unit_id": value})
                    judge(name, "unit_id", value, inside(properties["unit_id"], value), status, body)
                for start, end in datetimes():
                    status, body = request_for(method, template, body={"start": start, "end": end})
                    both_inside = inside(properties["start"], start) and inside(properties["end"], end)
                    judge(name, "start,end", (start, end), both_inside, status, body)

    assert not mismatches, "the schema and the validation disagree:\n" + "\n".join(mismatches)
    operations = {operation for operation, _what in checked}
    assert len(operations) == 6, operations  # every operation with input (GET /municipalities has none)


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
