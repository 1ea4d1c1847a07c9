"""template.yaml's IAM as SAM deploys it: each function's role, its policy documents expanded
by aws-sam-translator (SAM policy templates included) and resolved to one account's ARNs.

The IAM tier checks every AWS call a function makes against these documents
(tests/iam/enforce.py), and `python -m devstack.iam` lints them with parliament (`make iam-lint`).

aws-sam-translator pins a pydantic older than ours, so it runs in .venvs/ministack (the
environment that deploys the local stack, same translator version as `sam validate`); its
output is cached under .pytest_cache/sam-transform, keyed by the template's content.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from devstack.template import FUNCTIONS, TEMPLATE

ROOT = TEMPLATE.parent
# Either environment has the translator `make deps` pins (requirements/ministack.txt).
TRANSLATOR_PYTHONS = (ROOT / ".venvs/ministack/bin/python", ROOT / ".venvs/sam/bin/python")
TRANSLATOR_PIN = ROOT / "requirements/ministack.txt"
CACHE_DIR = ROOT / ".pytest_cache" / "sam-transform"
POLICY_VERSION = "2012-10-17"

# Run by the translator's interpreter: template.yaml on stdin, the transformed template out.
_TRANSFORM = r"""
import json, sys
import samtranslator
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class ManagedPolicyNames:
    # Only a policy given by an AWS managed policy *name* needs this map: refuse those,
    # they grant more than a function needs (write a Statement, or the policy's ARN).
    def load(self):
        raise SystemExit("template.yaml names an AWS managed policy: write a Statement instead")


template = yaml_parse(sys.stdin.read())
for name, resource in template.get("Resources", {}).items():
    properties = resource.get("Properties") or {}
    for key in ("CodeUri", "ContentUri"):
        # Where the code lives has no bearing on IAM; `sam validate` substitutes S3 too.
        if isinstance(properties.get(key), str):
            properties[key] = "s3://parcelhooks-artifacts/" + name
transformed = transform(template, {}, ManagedPolicyNames())
json.dump({"translator": samtranslator.__version__, "template": transformed}, sys.stdout)
"""


class TransformError(RuntimeError):
    pass


def _translator_python() -> Path:
    for python in TRANSLATOR_PYTHONS:
        if python.exists():
            return python
    raise TransformError(
        "aws-sam-translator is not installed: run `make deps` (it lives in .venvs/ministack)"
    )


@cache
def transformed() -> dict[str, Any]:
    """template.yaml as CloudFormation sees it after the Serverless transform."""
    text = TEMPLATE.read_text()
    key = hashlib.sha256(
        "\0".join([text, _TRANSFORM, TRANSLATOR_PIN.read_text()]).encode()
    ).hexdigest()[:24]
    cached = CACHE_DIR / f"{key}.json"
    if cached.exists():
        result: dict[str, Any] = json.loads(cached.read_text())["template"]
        return result
    done = subprocess.run(
        [str(_translator_python()), "-c", _TRANSFORM],
        input=text,
        capture_output=True,
        text=True,
        check=False,
        env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
    )
    if done.returncode != 0:
        raise TransformError(f"the SAM transform of template.yaml failed:\n{done.stderr[-4000:]}")
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.partial")  # one per process: xdist workers
    partial.write_text(done.stdout)
    partial.replace(cached)  # whole or not at all, for concurrent test runs
    result = json.loads(done.stdout)["template"]
    return result


@dataclass(frozen=True)
class Account:
    """Where the resources live, and how a logical id becomes a physical name.

    The defaults are moto's account and the component tests' convention (their moto stack,
    tests/component/stack.py, names every table and queue by its logical id). A KMS key's
    physical name is its KeyId, which only the key's creator learns: map the logical id to
    it in `names` (unmapped, the key is named by its logical id, as placeholder settings do)."""

    account_id: str = "123456789012"
    region: str = "us-east-1"
    partition: str = "aws"
    names: Mapping[str, str] = field(default_factory=dict)

    def name(self, logical_id: str) -> str:
        return self.names.get(logical_id, logical_id)

    def table_arn(self, table: str) -> str:
        return f"arn:{self.partition}:dynamodb:{self.region}:{self.account_id}:table/{table}"

    def queue_arn(self, queue: str) -> str:
        return f"arn:{self.partition}:sqs:{self.region}:{self.account_id}:{queue}"

    def queue_url(self, queue: str) -> str:
        return f"https://sqs.{self.region}.amazonaws.com/{self.account_id}/{queue}"

    def key_arn(self, key_id: str) -> str:
        return f"arn:{self.partition}:kms:{self.region}:{self.account_id}:key/{key_id}"

    def identity_arn(self, identity: str) -> str:
        """An SES identity: an e-mail address or a domain."""
        return f"arn:{self.partition}:ses:{self.region}:{self.account_id}:identity/{identity}"


@dataclass(frozen=True)
class Role:
    """One function's execution role as the transform makes it."""

    function: str
    role: str  # the role's logical id
    documents: dict[str, dict[str, Any]]  # inline policy name -> resolved policy document
    managed: tuple[str, ...]  # ARNs of the managed policies SAM attaches

    def statements(self) -> list[dict[str, Any]]:
        return [s for d in self.documents.values() for s in _as_list(d["Statement"])]


def roles(account: Account | None = None) -> dict[str, Role]:
    """Every function's role, its documents resolved for `account`."""
    template = transformed()
    resolver = _Resolver(template, account or Account())
    found: dict[str, Role] = {}
    for function in FUNCTIONS:
        properties = template["Resources"][function]["Properties"]
        role_id = properties["Role"]["Fn::GetAtt"][0]
        role = template["Resources"][role_id]["Properties"]
        found[function] = Role(
            function=function,
            role=role_id,
            documents={
                p["PolicyName"]: resolver.resolve(p["PolicyDocument"])
                for p in role.get("Policies", [])
            },
            managed=tuple(resolver.resolve(arn) for arn in role.get("ManagedPolicyArns", [])),
        )
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


_SUB_NAME = re.compile(r"\$\{([^}!][^}]*)\}")


class _Resolver:
    """Ref, Fn::GetAtt, Fn::Sub and Fn::Join as CloudFormation evaluates them in IAM policies."""

    def __init__(self, template: dict[str, Any], account: Account) -> None:
        self._resources: dict[str, Any] = template["Resources"]
        self._parameters: dict[str, Any] = template.get("Parameters", {})
        self._account = account

    def resolve(self, value: Any, variables: Mapping[str, Any] | None = None) -> Any:
        if isinstance(value, list):
            return [self.resolve(v, variables) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(name, argument)] = value.items()
            if name == "Ref":
                return self._ref(argument)
            if name == "Fn::GetAtt":
                logical_id, attribute = (
                    argument if isinstance(argument, list) else argument.split(".", 1)
                )
                return self._attribute(logical_id, attribute)
            if name == "Fn::Sub":
                return self._sub(argument)
            if name == "Fn::Join":
                separator, parts = argument
                return str(separator).join(str(self.resolve(p)) for p in parts)
            if name.startswith("Fn::"):
                raise TransformError(f"cannot resolve {name} in an IAM policy")
        return {k: self.resolve(v, variables) for k, v in value.items()}

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {k: self.resolve(v) for k, v in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return str(values[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return str(self._attribute(logical_id, attribute))
            return str(self._ref(name))

        return _SUB_NAME.sub(substitute, text).replace("${!", "${")

    def _ref(self, name: str) -> str:
        account = self._account
        pseudo = {
            "AWS::AccountId": account.account_id,
            "AWS::Region": account.region,
            "AWS::Partition": account.partition,
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self._parameters:
            return str(self._parameters[name].get("Default", ""))
        kind = self._resources[name]["Type"]
        if kind == "AWS::DynamoDB::Table":
            return account.name(name)
        if kind == "AWS::SQS::Queue":
            return account.queue_url(account.name(name))
        if kind == "AWS::KMS::Key":
            return account.name(name)  # the KeyId
        raise TransformError(f"cannot resolve Ref {name} ({kind}) in an IAM policy")

    def _attribute(self, logical_id: str, attribute: str) -> str:
        account = self._account
        kind = self._resources[logical_id]["Type"]
        name = account.name(logical_id)
        if kind == "AWS::DynamoDB::Table" and attribute == "Arn":
            return account.table_arn(name)
        if kind == "AWS::SQS::Queue":
            attributes = {
                "Arn": account.queue_arn(name),
                "QueueName": name,
                "QueueUrl": account.queue_url(name),
            }
            if attribute in attributes:
                return attributes[attribute]
        if kind == "AWS::KMS::Key":
            attributes = {"Arn": account.key_arn(name), "KeyId": name}
            if attribute in attributes:
                return attributes[attribute]
        raise TransformError(f"cannot resolve {logical_id}.{attribute} ({kind}) in an IAM policy")


@dataclass(frozen=True)
class Finding:
    function: str
    policy: str
    issue: str
    severity: str
    detail: str

    def __str__(self) -> str:
        return f"{self.function} {self.policy}: {self.issue} ({self.severity}) {self.detail}"


def lint(found: Mapping[str, Role] | None = None) -> list[Finding]:
    """parliament's findings (community auditors included) on every inline policy document."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # parliament imports the deprecated pkg_resources
        parliament: Any = importlib.import_module("parliament")
    findings: list[Finding] = []
    for function, role in (found or roles()).items():
        for name, document in role.documents.items():
            analyzed = parliament.analyze_policy_string(
                json.dumps(document), include_community_auditors=True
            )
            for finding in analyzed.findings:
                parliament.enhance_finding(finding)
                findings.append(
                    Finding(function, name, finding.issue, finding.severity, str(finding.detail))
                )
    return findings


def main() -> int:
    found = roles()
    findings = lint(found)
    for function, role in found.items():
        actions = sorted({a for s in role.statements() for a in _as_list(s["Action"])})
        print(f"{function}: {len(role.documents)} inline policies, {', '.join(actions)}")
    for finding in findings:
        print(f"parliament: {finding}", file=sys.stderr)
    print(f"parliament: {len(findings)} findings in {len(found)} function roles")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
