"""template.yaml read as data: its tables, queues and each function's environment, so the
unit tests' moto stack and the OpenAPI build see exactly what is deployed."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"

FUNCTIONS = {
    "AuthorizerFunction": "authorizer",
    "IngestFunction": "ingest",
    "FanoutFunction": "fanout",
    "AdminFunction": "admin",
    "RedriveFunction": "redrive",
    "SweepFunction": "sweep",
}


class _Tag:
    """A CloudFormation intrinsic (`!Ref X`, `!GetAtt X.Y`, `!Sub ...`) kept as written."""

    def __init__(self, tag: str, value: object) -> None:
        self.tag = tag
        self.value = value


class _Loader(yaml.SafeLoader):
    pass


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> _Tag:
    if isinstance(node, yaml.ScalarNode):
        return _Tag(suffix, loader.construct_scalar(node))
    if isinstance(node, yaml.SequenceNode):
        return _Tag(suffix, loader.construct_sequence(node, deep=True))
    return _Tag(suffix, loader.construct_mapping(node, deep=True))  # type: ignore[arg-type]


_Loader.add_multi_constructor("!", _intrinsic)


@cache
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_Loader)  # noqa: S506 - a SafeLoader
    return loaded


def resources(kind: str) -> dict[str, dict[str, Any]]:
    """Logical id → properties of every resource of one type."""
    return {
        name: resource.get("Properties", {})
        for name, resource in template()["Resources"].items()
        if resource["Type"] == kind
    }


def with_default_conditions(value: object) -> object:
    """`value` as deployed with the parameters' defaults: each `!If` replaced by the branch
    its condition takes (conditions of the form `!Equals [!Ref Parameter, literal]`), and
    `!Ref AWS::NoValue` by None."""
    if isinstance(value, _Tag) and value.tag == "If":
        branches: list[Any] = list(value.value)  # type: ignore[call-overload]
        condition, when_true, when_false = branches
        return with_default_conditions(when_true if _holds(str(condition)) else when_false)
    if isinstance(value, _Tag) and value.tag == "Ref" and value.value == "AWS::NoValue":
        return None
    if isinstance(value, list):
        return [with_default_conditions(item) for item in value]
    if isinstance(value, dict):
        return {key: with_default_conditions(item) for key, item in value.items()}
    return value


def _holds(condition: str) -> bool:
    equals = template()["Conditions"][condition]
    if not (isinstance(equals, _Tag) and equals.tag == "Equals"):
        raise ValueError(f"cannot evaluate condition {condition}")
    sides: list[Any] = list(equals.value)  # type: ignore[call-overload]
    left, right = sides
    if isinstance(left, _Tag) and left.tag == "Ref":
        left = parameter_default(str(left.value))
    return str(left) == str(right)


def parameter_default(name: str) -> str:
    return str(template()["Parameters"][name]["Default"])


def function_environment(function: str, physical: dict[str, str]) -> dict[str, str]:
    """The function's variables as deployed with default parameters; `physical` maps a
    resource's logical id to what `!Ref` gives (a table name, a queue URL)."""
    variables = {
        **template()["Globals"]["Function"]["Environment"]["Variables"],
        **template()["Resources"][function]["Properties"]["Environment"]["Variables"],
    }
    return {name: _resolve(value, physical) for name, value in variables.items()}


def _resolve(value: object, physical: dict[str, str]) -> str:
    value = with_default_conditions(value)
    if not isinstance(value, _Tag):
        return str(value)
    if value.tag != "Ref":
        raise ValueError(f"cannot resolve !{value.tag} in a function's environment")
    name = str(value.value)
    if name in template()["Parameters"]:
        return parameter_default(name)
    return physical[name]
