"""Each function's environment as template.yaml gives it, and the builders its wiring caches.

The handlers validate their settings when imported, so a test that imports one needs the
variables the template gives it: `placeholder_environment()` names every table and queue
by its logical id (nothing reaches AWS with those), and the component tier's moto stack
swaps in the real names. The wiring modules cache what they build from the environment;
`reset_cached_builders()` makes them build it again, for the next test's environment.
"""

from __future__ import annotations

from types import ModuleType

from devstack.template import FUNCTIONS, function_environment, resources
from parcelhooks.aws import clients
from parcelhooks.wiring import admin, authorizer, fanout, ingest, redrive, sweep

CACHED_MODULES: tuple[ModuleType, ...] = (
    clients,
    authorizer,
    fanout,
    ingest,
    admin,
    redrive,
    sweep,
)


def functions_environment(physical: dict[str, str]) -> dict[str, str]:
    """Every function's variables in one process (they agree where they share a name);
    `physical` maps a table's or queue's logical id to its name or URL."""
    merged: dict[str, str] = {}
    for function in FUNCTIONS:
        merged |= function_environment(function, physical)
    return merged


def placeholder_environment() -> dict[str, str]:
    """Every function's variables, each table, queue and key named by its logical id."""
    names = [
        *resources("AWS::DynamoDB::Table"),
        *resources("AWS::SQS::Queue"),
        *resources("AWS::KMS::Key"),
    ]
    return functions_environment({name: name for name in names})


def reset_cached_builders() -> None:
    for module in CACHED_MODULES:
        for value in vars(module).values():
            cache_clear = getattr(value, "cache_clear", None)
            if callable(cache_clear):
                cache_clear()
