"""The error codes the code can answer are exactly the ones the docs and the OpenAPI document
list, each with its one status, and each route's list is the one the API declares.

"The code can answer" is read from the source: every `ErrorCode.X` the package and the
handlers name, and every code of the gateway's responses in template.yaml.
"""

from __future__ import annotations

import ast
import json
import re

import pytest
import yaml

from parcelhooks.api.edge import ERROR_ANSWERS
from parcelhooks.api.errors import EVERY_ROUTE, ROUTE_ERRORS, STATUS_OF, ErrorCode, route_errors
from testkit.factories import ROOT

SOURCES = [
    *(ROOT / "layers/parcelhooks/parcelhooks").rglob("*.py"),
    *(ROOT / "functions").rglob("*.py"),
]
API_DOC = (ROOT / "docs/api.md").read_text()
OPENAPI = json.loads((ROOT / "docs/openapi.json").read_text())


def codes_named_in_source() -> set[ErrorCode]:
    named = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "ErrorCode"
            ):
                named.add(ErrorCode[node.attr])
    return named


class _Loader(yaml.SafeLoader):
    """Reads CloudFormation's short tags (!Ref, !Sub, ...) as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def gateway_answers() -> dict[ErrorCode, int | None]:
    """The code and status of each of the API's gateway responses in template.yaml."""
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_Loader)
    answers: dict[ErrorCode, int | None] = {}
    for resource in template["Resources"].values():
        for response in (resource.get("Properties") or {}).get("GatewayResponses", {}).values():
            body = json.loads(response["ResponseTemplates"]["application/json"])
            answers[ErrorCode(body["error"]["code"])] = response.get("StatusCode")
    return answers


def codes_the_code_can_answer() -> set[ErrorCode]:
    return codes_named_in_source() | set(gateway_answers())


def documented_codes() -> dict[str, int]:
    rows = re.findall(r"^\| `(\w+)` \| (\d{3}) \|", API_DOC, flags=re.MULTILINE)
    return {code: int(status) for code, status in rows}


def documented_routes() -> dict[tuple[str, str], set[str]]:
    rows = re.findall(r"^\| `(GET|POST|PATCH|DELETE) (\S+)` \| (.*) \|$", API_DOC, re.MULTILINE)
    return {(m, p): set(re.findall(r"`(\w+)`", codes)) for m, p, codes in rows}


def openapi_operations() -> dict[tuple[str, str], dict[str, set[str]]]:
    """Each operation's error codes by status, as the OpenAPI document lists them."""
    found: dict[tuple[str, str], dict[str, set[str]]] = {}
    for path, operations in OPENAPI["paths"].items():
        for method, operation in operations.items():
            by_status = {}
            for status, response in operation["responses"].items():
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                for part in schema.get("allOf", []):
                    enum = part.get("properties", {}).get("error", {})
                    codes = enum.get("properties", {}).get("code", {}).get("enum")
                    if codes:
                        by_status[status] = set(codes)
            found[(method.upper(), path)] = by_status
    return found


def test_every_code_the_code_can_answer_is_in_the_catalogue_and_none_is_unused() -> None:
    assert codes_the_code_can_answer() == set(ErrorCode)


def test_the_docs_list_every_code_with_its_status() -> None:
    assert documented_codes() == {code.value: STATUS_OF[code].value for code in ErrorCode}


def test_the_edge_and_the_gateway_answer_each_code_with_its_one_status() -> None:
    for status, code in ERROR_ANSWERS.values():
        assert STATUS_OF[code] == status, code
    for code, status in gateway_answers().items():
        # A response with no StatusCode keeps the gateway's own (DEFAULT_5XX: a 5xx).
        assert status is None or STATUS_OF[code] == status, code


def test_every_documented_route_has_its_codes_declared() -> None:
    assert set(ROUTE_ERRORS) == set(openapi_operations())


def test_the_openapi_document_lists_each_routes_codes_under_their_statuses() -> None:
    for (method, path), by_status in openapi_operations().items():
        expected: dict[str, set[str]] = {}
        for code in route_errors(method, path):
            expected.setdefault(str(STATUS_OF[code].value), set()).add(code.value)
        assert by_status == expected, (method, path)


def test_the_openapi_document_names_every_code() -> None:
    named = {
        code
        for by_status in openapi_operations().values()
        for codes in by_status.values()
        for code in codes
    }
    assert named == {code.value for code in ErrorCode}


def test_the_docs_list_each_routes_codes() -> None:
    every = {code.value for code in EVERY_ROUTE}
    documented = documented_routes()
    assert set(documented) == set(ROUTE_ERRORS)
    for route, codes in ROUTE_ERRORS.items():
        assert documented[route] == {code.value for code in codes}, route
    sentence = API_DOC[API_DOC.index("Every route can answer") :].split("; besides")[0]
    assert set(re.findall(r"`(\w+)`", sentence)) == every


@pytest.mark.parametrize("code", list(ErrorCode))
def test_a_code_is_a_string_a_client_can_switch_on(code: ErrorCode) -> None:
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*", code.value)
