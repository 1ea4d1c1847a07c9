"""Print the API's OpenAPI document: `python -m devstack.openapi > docs/openapi.json`."""

import importlib.util
import json
import os
import sys
from typing import Any

from devstack.stack import ROOT
from devstack.template import function_environment, resources


def current_document() -> dict[str, Any]:
    """The document the deployed admin function serves, built from the code as it is."""
    # The document depends on no setting, but the handler checks its settings on import.
    names = [
        *resources("AWS::DynamoDB::Table"),
        *resources("AWS::SQS::Queue"),
        *resources("AWS::KMS::Key"),
    ]
    for variable, value in function_environment("AdminFunction", {n: n for n in names}).items():
        os.environ.setdefault(variable, value)
    spec = importlib.util.spec_from_file_location("admin_app", ROOT / "functions/admin/app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    document: dict[str, Any] = module.public_document()
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render(current_document()))
