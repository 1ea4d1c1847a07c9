"""The package's imports point down: handlers -> wiring -> flows -> core; wiring -> aws -> core.

Read from the source with `ast` (nothing is imported), so an import inside a function or
under TYPE_CHECKING counts like one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from devstack.template import FUNCTIONS

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "parcelhooks"
PACKAGE = LAYER / "parcelhooks"
FLOWS = ("api", "auth", "delivery", "ingest", "merchant_api", "ops")
DELIVERY_SURFACE = "parcelhooks.delivery.public"


def is_module(name: str) -> bool:
    path = LAYER.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def module_name(path: Path) -> str:
    parts = path.relative_to(LAYER).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """The parcelhooks modules `source`, the text of `module`, imports anywhere in it."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parents = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parents, base] if base else parents)
            for alias in node.names:
                # `from parcelhooks.delivery import public` imports the module public.
                candidate = f"{base}.{alias.name}"
                found.add(candidate if is_module(candidate) else base)
    return {name for name in found if name.split(".")[0] == "parcelhooks"}


def layer_of(module: str) -> str:
    """`parcelhooks.core.models` -> `core`; the bare package is its own layer."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def aws_violations(imports: set[str]) -> list[str]:
    return sorted(name for name in imports if layer_of(name) not in {"aws", "core"})


def wiring_violations(imports: set[str]) -> list[str]:
    return sorted(name for name in imports if layer_of(name) == "wiring")


def delivery_surface_violations(imports: set[str]) -> list[str]:
    return sorted(
        name for name in imports if layer_of(name) == "delivery" and name != DELIVERY_SURFACE
    )


def package_imports(folder: str | None = None) -> dict[str, set[str]]:
    """Module name -> what it imports, for every module of the package (or of one folder)."""
    root = PACKAGE / folder if folder else PACKAGE
    return {
        module_name(path): imported_modules(
            path.read_text(), module_name(path), is_package=path.name == "__init__.py"
        )
        for path in sorted(root.rglob("*.py"))
    }


# The rules themselves, on sources written to break them: each check can fail.


def test_an_adapter_importing_a_flow_type_is_caught() -> None:
    source = "from parcelhooks.delivery.health import EndpointHealth\n"
    imports = imported_modules(source, "parcelhooks.aws.endpoint_health_table")
    assert aws_violations(imports) == ["parcelhooks.delivery.health"]


def test_an_adapter_may_import_core_its_siblings_and_boto3() -> None:
    source = (
        "import boto3\n"
        "from parcelhooks.aws import clients\n"
        "from parcelhooks.aws.items import epoch\n"
        "from parcelhooks.core.deliveries import AttemptRecord\n"
    )
    imports = imported_modules(source, "parcelhooks.aws.delivery_log_table")
    assert aws_violations(imports) == []
    assert imports == {
        "parcelhooks.aws.clients",
        "parcelhooks.aws.items",
        "parcelhooks.core.deliveries",
    }


def test_a_relative_or_deferred_import_of_a_flow_is_caught_in_an_adapter() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from ..ingest import accept\n"
        "if TYPE_CHECKING:\n"
        "    from parcelhooks.ops.redrive import Redrive\n"
        "def claim():\n"
        "    import parcelhooks.auth.keys\n"
    )
    imports = imported_modules(source, "parcelhooks.aws.idempotency_table")
    assert aws_violations(imports) == [
        "parcelhooks.auth.keys",
        "parcelhooks.ingest.accept",
        "parcelhooks.ops.redrive",
    ]


def test_a_flow_importing_wiring_is_caught() -> None:
    source = "def handle():\n    from parcelhooks.wiring import fanout\n"
    imports = imported_modules(source, "parcelhooks.delivery.fanout")
    assert wiring_violations(imports) == ["parcelhooks.wiring.fanout"]


def test_merchant_api_reaching_past_the_delivery_surface_is_caught() -> None:
    source = (
        "from parcelhooks.delivery import public\n"
        "from parcelhooks.delivery.public import vet\n"
        "from parcelhooks.delivery.signing import generate_secret\n"
        "from parcelhooks.delivery import health\n"
    )
    imports = imported_modules(source, "parcelhooks.merchant_api.subscriptions")
    assert delivery_surface_violations(imports) == [
        "parcelhooks.delivery.health",
        "parcelhooks.delivery.signing",
    ]


# The package as it is.


def test_the_rules_see_every_folder_of_the_package() -> None:
    folders = {layer_of(module) for module in package_imports()}
    assert {"aws", "core", "wiring", *FLOWS} <= folders


def test_aws_adapters_import_only_core_and_each_other() -> None:
    found = {
        module: aws_violations(imports)
        for module, imports in package_imports("aws").items()
        if aws_violations(imports)
    }
    assert found == {}


@pytest.mark.parametrize("folder", ["core", "aws", *FLOWS])
def test_no_flow_adapter_or_core_module_imports_wiring(folder: str) -> None:
    found = {
        module: wiring_violations(imports)
        for module, imports in package_imports(folder).items()
        if wiring_violations(imports)
    }
    assert found == {}


@pytest.mark.parametrize("folder", FLOWS)
def test_no_flow_imports_an_aws_adapter(folder: str) -> None:
    """A flow calls the ports it declares; wiring/ hands it the adapters."""
    found = {
        module: sorted(name for name in imports if layer_of(name) == "aws")
        for module, imports in package_imports(folder).items()
        if any(layer_of(name) == "aws" for name in imports)
    }
    assert found == {}


def test_core_imports_only_core() -> None:
    found = {
        module: sorted(name for name in imports if layer_of(name) != "core")
        for module, imports in package_imports("core").items()
        if any(layer_of(name) != "core" for name in imports)
    }
    assert found == {}


def test_merchant_api_uses_delivery_only_through_its_public_surface() -> None:
    found = {
        module: delivery_surface_violations(imports)
        for module, imports in package_imports("merchant_api").items()
        if delivery_surface_violations(imports)
    }
    assert found == {}


@pytest.mark.parametrize("folder", sorted(FUNCTIONS.values()))
def test_each_handler_imports_the_wiring_module_named_after_it(folder: str) -> None:
    path = ROOT / "functions" / folder / "app.py"
    imports = imported_modules(path.read_text(), f"functions.{folder}.app")
    assert {name for name in imports if layer_of(name) == "wiring"} == {
        f"parcelhooks.wiring.{folder}"
    }


# api/ is the HTTP edge every flow's answers go through, below the flows, not one of them.
SURFACED_FLOWS = tuple(flow for flow in FLOWS if flow != "api")


def other_flow_violations(flow: str, imports: set[str]) -> list[str]:
    """Imports of another flow's modules other than its public surface (`<flow>.public`)."""
    return sorted(
        name
        for name in imports
        if layer_of(name) in SURFACED_FLOWS
        and layer_of(name) != flow
        and name != f"parcelhooks.{layer_of(name)}.public"
    )


def test_a_flow_reaches_another_only_through_its_public_surface() -> None:
    found = {
        module: other_flow_violations(flow, imports)
        for flow in SURFACED_FLOWS
        for module, imports in package_imports(flow).items()
        if other_flow_violations(flow, imports)
    }
    assert found == {}


def test_the_surface_rule_sees_an_import_of_another_flows_internals() -> None:
    imports = imported_modules(
        "from parcelhooks.ingest.events import CarrierEventIn\n"
        "from parcelhooks.ingest.public import check_tracking_code\n"
        "from parcelhooks.merchant_api.models import SubscriptionIn\n",
        "parcelhooks.merchant_api.shipments",
    )
    assert other_flow_violations("merchant_api", imports) == ["parcelhooks.ingest.events"]
