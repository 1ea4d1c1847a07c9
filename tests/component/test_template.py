"""template.yaml itself: the defaults and outputs of the stack as SAM transforms it for the
cloud (aws-sam-translator, from .venvs/ministack), every route it deploys documented, the
binary media types the edge relies on, and each function's variables against its settings.
(Its alarms and dashboard: tests/component/test_alarms.py.)"""

from __future__ import annotations

import re

import pytest

from devstack.iam import TEMPLATE, transformed
from devstack.openapi import current_document
from devstack.template import FUNCTIONS, function_environment, resources, template
from parcelhooks.auth.settings import AuthorizerSettings
from parcelhooks.core.settings import FunctionSettings
from parcelhooks.delivery.settings import FanoutSettings
from parcelhooks.ingest.settings import IngestSettings
from parcelhooks.merchant_api.settings import AdminSettings
from parcelhooks.ops.settings import RedriveSettings
from parcelhooks.watch.settings import SweepSettings

ROOT = TEMPLATE.parent
SETTINGS: dict[str, type[FunctionSettings]] = {
    "AuthorizerFunction": AuthorizerSettings,
    "IngestFunction": IngestSettings,
    "FanoutFunction": FanoutSettings,
    "AdminFunction": AdminSettings,
    "RedriveFunction": RedriveSettings,
    "SweepFunction": SweepSettings,
}
PLACEHOLDERS = {
    name: name
    for name in [
        *resources("AWS::DynamoDB::Table"),
        *resources("AWS::SQS::Queue"),
        *resources("AWS::KMS::Key"),
    ]
}


# ---------------------------------------------------------------------------------------
# The template as deployed to the cloud: defaults and outputs


def test_the_parameter_defaults_are_the_cloud_ones() -> None:
    parameters = transformed()["Parameters"]
    defaults = {name: str(p.get("Default")) for name, p in parameters.items()}
    assert all("Default" in p for p in parameters.values()), "every parameter needs a default"
    assert defaults["AllowHttpTargets"] == "false"  # a local relaxation, off
    assert defaults["AllowedTargetNetworks"] == ""  # a local relaxation, off
    assert int(defaults["AuthorizerCacheTtl"]) > 0
    assert defaults["RetrySchedule"] == "5,300,1800,7200,18000,36000,36000"
    assert defaults["LogLevel"] == "INFO"
    # AWS advises six times the function's timeout for an event source's queue.
    assert int(defaults["QueueVisibilityTimeout"]) >= 6 * int(defaults["FanoutTimeoutSeconds"])


def test_the_outputs_ops_need_are_present() -> None:
    """The README's outputs, and every output the CLI looks up by name."""
    outputs = set(transformed()["Outputs"])
    documented = {"ApiUrl", "ApiKeysTableName", "EventsQueueUrl", "RetryQueueUrl"}
    documented |= {"EventsDLQUrl", "DeliveriesDLQUrl"}
    looked_up = re.findall(r'output\("(\w+)"\)|outputs\(\)\["(\w+)"\]', _cli_source())
    cli = {name for pair in looked_up for name in pair if name}
    assert documented | cli <= outputs, f"missing: {(documented | cli) - outputs}"


def _cli_source() -> str:
    return "\n".join(p.read_text() for p in (ROOT / "cli" / "parcelhooks_cli").glob("*.py"))


# ---------------------------------------------------------------------------------------
# The API: its routes, and the bodies it hands the functions


def test_every_api_route_in_the_template_is_documented() -> None:
    routes = {
        (event["Properties"]["Path"], event["Properties"]["Method"].upper())
        for resource in template()["Resources"].values()
        for event in (resource.get("Properties") or {}).get("Events", {}).values()
        if event["Type"] == "Api"
    }
    assert ("/v1/events", "POST") in routes
    documented = {
        (path, method.upper())
        for path, operations in current_document()["paths"].items()
        for method in operations
    }
    # The portal's own routes (a session cookie, not a key) are documented in docs/api.md.
    portal = {route for route in routes if route[0].split("/")[1] == "portal"}
    assert portal == {
        ("/portal", "GET"),
        ("/portal/assets/{name}", "GET"),
        ("/portal/session", "GET"),
        ("/portal/session", "POST"),
        ("/portal/session", "DELETE"),
        *(("/portal/api/{proxy+}", method) for method in ("GET", "POST", "PATCH", "DELETE")),
    }
    api_doc = (TEMPLATE.parent / "docs" / "api.md").read_text()
    assert "`POST /portal/session`" in api_doc and "`/portal/api/v1/...`" in api_doc
    assert routes - {("/v1/openapi.json", "GET")} - portal == documented


def test_the_api_takes_every_body_as_binary_and_has_no_mock_preflight() -> None:
    # `*~1*` is `*/*` as CloudFormation writes it. SAM's `Cors` adds OPTIONS methods with MOCK
    # integrations, which fail 500 on a binary body (they cannot be told CONVERT_TO_TEXT).
    [api] = resources("AWS::Serverless::Api").values()
    assert api["BinaryMediaTypes"] == ["*~1*"]
    assert "Cors" not in api


# ---------------------------------------------------------------------------------------
# Each function's variables against the settings it reads


@pytest.mark.parametrize("function", list(FUNCTIONS))
def test_a_function_is_given_only_what_it_reads_and_all_it_requires(function: str) -> None:
    given = {
        name
        for name in function_environment(function, PLACEHOLDERS)
        if not name.startswith("POWERTOOLS_")
    }
    fields = SETTINGS[function].model_fields
    assert given <= {name.upper() for name in fields}
    assert {name.upper() for name, field in fields.items() if field.is_required()} <= given


@pytest.mark.parametrize("function", list(FUNCTIONS))
def test_the_template_defaults_are_valid_settings(function: str) -> None:
    SETTINGS[function].from_env(function_environment(function, PLACEHOLDERS))


@pytest.mark.parametrize("function", list(FUNCTIONS))
def test_every_literal_variable_in_the_template_is_a_string(function: str) -> None:
    # CloudFormation turns numbers into strings; the local stack hands them on as numbers.
    variables = template()["Resources"][function]["Properties"]["Environment"]["Variables"]
    literals = {name: value for name, value in variables.items() if not hasattr(value, "tag")}
    assert all(isinstance(value, str) for value in literals.values()), literals
