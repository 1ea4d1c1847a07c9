"""Where the CLI acts: the local stack (`--local`) or a deployed stack's outputs on AWS."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

LOCAL_CONFIG = Path(".parcelhooks/local.json")
DEFAULT_STACK = "parcelhooks"


class TargetError(RuntimeError):
    """The CLI cannot tell where to act (no local.json, an output missing, no key...)."""


@dataclass(frozen=True)
class LocalSettings:
    """What `make run` writes to .parcelhooks/local.json (the e2e tests write a part of it)."""

    aws_endpoint_url: str
    region: str
    stack_name: str
    api_url: str | None = None
    carrier_key: str | None = None


def load_local_settings(config: Path) -> LocalSettings:
    if not config.exists():
        raise TargetError(f"{config} not found: start the local stack with `make run` first")
    try:
        settings: dict[str, Any] = json.loads(config.read_text())
        return LocalSettings(
            aws_endpoint_url=settings["aws_endpoint_url"],
            region=settings["region"],
            stack_name=settings["stack_name"],
            api_url=settings.get("api_url"),
            carrier_key=settings.get("carrier_key"),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise TargetError(f"{config} is not a local stack's settings ({error!r})") from None


@dataclass(frozen=True)
class Target:
    stack_name: str
    session: boto3.Session
    endpoint_url: str | None

    @property
    def local(self) -> bool:
        return self.endpoint_url is not None

    def client(self, service: str, config: Config | None = None) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url, config=config)  # type: ignore[call-overload]

    def resource(self, service: str) -> Any:
        return self.session.resource(service, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]

    @cached_property
    def _described_outputs(self) -> dict[str, str]:
        stack = self.client("cloudformation").describe_stacks(StackName=self.stack_name)
        return {o["OutputKey"]: o["OutputValue"] for o in stack["Stacks"][0].get("Outputs", [])}

    def outputs(self) -> dict[str, str]:
        """The stack's outputs, described once per Target."""
        return self._described_outputs

    def output(self, name: str) -> str:
        try:
            return self.outputs()[name]
        except KeyError:
            raise TargetError(
                f"stack {self.stack_name} has no output {name}: "
                "was it deployed from an older template.yaml?"
            ) from None


def resolve_target(local: bool, stack_name: str | None, config: Path = LOCAL_CONFIG) -> Target:
    if not local:
        return Target(stack_name or DEFAULT_STACK, boto3.Session(), None)
    settings = load_local_settings(config)
    session = boto3.Session(
        aws_access_key_id="000000000000",
        aws_secret_access_key="test",  # noqa: S106 - MiniStack's fixed fake credentials
        region_name=settings.region,
    )
    return Target(stack_name or settings.stack_name, session, settings.aws_endpoint_url)
