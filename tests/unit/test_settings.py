"""Each function's settings are validated at cold start, naming what is missing or wrong.
(That template.yaml gives each function exactly what it reads:
tests/component/test_template.py.)"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from devstack.template import function_environment, resources
from parcelhooks.auth.settings import AuthorizerSettings
from parcelhooks.core.settings import SettingsError
from parcelhooks.delivery.settings import FanoutSettings
from parcelhooks.ingest.settings import IngestSettings

PLACEHOLDERS = {
    name: name
    for name in [
        *resources("AWS::DynamoDB::Table"),
        *resources("AWS::SQS::Queue"),
        *resources("AWS::KMS::Key"),
    ]
}
ROOT = Path(__file__).resolve().parents[2]


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
