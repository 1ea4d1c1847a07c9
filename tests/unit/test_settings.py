"""Each function reads exactly the variables template.yaml gives it, validated at cold start."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from devstack.template import FUNCTIONS, function_environment, resources, template
from parcelhooks.auth.settings import AuthorizerSettings
from parcelhooks.core.settings import FunctionSettings, SettingsError
from parcelhooks.delivery.settings import FanoutSettings
from parcelhooks.ingest.settings import IngestSettings
from parcelhooks.merchant_api.settings import AdminSettings
from parcelhooks.ops.settings import RedriveSettings

SETTINGS: dict[str, type[FunctionSettings]] = {
    "AuthorizerFunction": AuthorizerSettings,
    "IngestFunction": IngestSettings,
    "FanoutFunction": FanoutSettings,
    "AdminFunction": AdminSettings,
    "RedriveFunction": RedriveSettings,
}
PLACEHOLDERS = {
    name: name for name in [*resources("AWS::DynamoDB::Table"), *resources("AWS::SQS::Queue")]
}
ROOT = Path(__file__).resolve().parents[2]


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


def test_a_missing_queue_url_is_named_in_the_error() -> None:
    environment = function_environment("IngestFunction", PLACEHOLDERS)
    del environment["EVENTS_QUEUE_URL"]
    with pytest.raises(SettingsError, match="EVENTS_QUEUE_URL: Field required"):
        IngestSettings.from_env(environment)


def test_an_empty_table_name_is_refused() -> None:
    environment = function_environment("AuthorizerFunction", PLACEHOLDERS) | {"API_KEYS_TABLE": ""}
    with pytest.raises(SettingsError, match="API_KEYS_TABLE"):
        AuthorizerSettings.from_env(environment)


def test_a_malformed_value_is_refused_with_its_name() -> None:
    environment = function_environment("FanoutFunction", PLACEHOLDERS) | {
        "RETRY_SCHEDULE_S": "5,soon"
    }
    with pytest.raises(SettingsError, match="RETRY_SCHEDULE_S"):
        FanoutSettings.from_env(environment)


def test_a_handler_without_its_settings_fails_when_imported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EVENTS_QUEUE_URL")
    monkeypatch.syspath_prepend(str(ROOT / "functions" / "ingest"))
    monkeypatch.delitem(sys.modules, "app", raising=False)
    with pytest.raises(SettingsError, match="EVENTS_QUEUE_URL"):
        importlib.import_module("app")
    monkeypatch.delitem(sys.modules, "app", raising=False)


@pytest.mark.parametrize("function", list(FUNCTIONS))
def test_every_literal_variable_in_the_template_is_a_string(function: str) -> None:
    # CloudFormation turns numbers into strings; the local stack hands them on as numbers.
    variables = template()["Resources"][function]["Properties"]["Environment"]["Variables"]
    literals = {name: value for name, value in variables.items() if not hasattr(value, "tag")}
    assert all(isinstance(value, str) for value in literals.values()), literals
