"""docs/openapi.json is what the code serves; the document describes every route we deploy."""

import json

import yaml

from devstack.openapi import current_document, render
from devstack.stack import ROOT
from tests.factories import LambdaContextStub, api_event, load_function

DOCUMENT = ROOT / "docs" / "openapi.json"


def test_docs_openapi_json_matches_the_code() -> None:
    assert DOCUMENT.read_text() == render(current_document()), (
        "docs/openapi.json is out of date: run `make openapi` and commit it"
    )


def test_it_is_openapi_3_1_with_bearer_auth_and_the_error_shape() -> None:
    document = current_document()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "422" not in responses, (path, method)
            assert responses["401"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorResponse"
            }


class _CfnLoader(yaml.SafeLoader):
    """Reads template.yaml, turning CloudFormation tags (!Ref, !GetAtt...) into plain values."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _template_routes() -> set[tuple[str, str]]:
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)
    return {
        (event["Properties"]["Path"], event["Properties"]["Method"].upper())
        for resource in template["Resources"].values()
        for event in (resource.get("Properties") or {}).get("Events", {}).values()
        if event["Type"] == "Api"
    }


def test_every_api_route_in_the_template_is_documented() -> None:
    routes = _template_routes()
    assert ("/v1/events", "POST") in routes
    documented = {
        (path, method.upper())
        for path, operations in current_document()["paths"].items()
        for method in operations
    }
    assert routes - {("/v1/openapi.json", "GET")} == documented


def test_the_admin_function_serves_it_without_a_key() -> None:
    app = load_function("admin")
    response = app.handler(api_event("GET", "/v1/openapi.json"), LambdaContextStub())
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["info"]["title"] == "parcelhooks"
