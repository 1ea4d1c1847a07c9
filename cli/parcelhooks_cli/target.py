"""Where the CLI acts: the local stack (`--local`) or a deployed stack's outputs on AWS."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

LOCAL_CONFIG = Path(".parcelhooks/local.json")
DEFAULT_STACK = "parcelhooks"


class TargetError(RuntimeError):
    pass


@dataclass(frozen=True)
class Target:
    stack_name: str
    session: boto3.Session
    endpoint_url: str | None

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]

    def resource(self, service: str) -> Any:
        return self.session.resource(service, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]

    def outputs(self) -> dict[str, str]:
        stack = self.client("cloudformation").describe_stacks(StackName=self.stack_name)
        return {o["OutputKey"]: o["OutputValue"] for o in stack["Stacks"][0].get("Outputs", [])}


def resolve_target(local: bool, stack_name: str | None, config: Path = LOCAL_CONFIG) -> Target:
    if not local:
        return Target(stack_name or DEFAULT_STACK, boto3.Session(), None)
    if not config.exists():
        raise TargetError(f"{config} not found: start the local stack with `make run` first")
    settings = json.loads(config.read_text())
    session = boto3.Session(
        aws_access_key_id="000000000000",
        aws_secret_access_key="test",  # noqa: S106 - MiniStack's fixed fake credentials
        region_name=settings["region"],
    )
    return Target(stack_name or settings["stack_name"], session, settings["aws_endpoint_url"])
