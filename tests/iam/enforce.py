"""Every AWS call a function makes, checked against that function's own IAM policies.

A pytest plugin: `pytest -p tests.iam.enforce tests/component` runs the component tests
that build the moto stack (and only those), with each function's boto3 clients signed by its
own role and every call they make checked before it is sent. tests/iam/test_iam.py runs it
and reads what it recorded (PARCELHOOKS_IAM_LEDGER names the file).

Why not moto's own access control (`set_initial_no_auth_action_count(0)`): moto 5.2.5
checks DynamoDB calls against Resource "*" (it never works out the table), so a policy
scoped to a table — every least-privilege policy — is refused everything, and it checks
SQS batch calls as `sqs:SendMessageBatch`, an action IAM does not have (AWS authorizes
SendMessageBatch by `sqs:SendMessage`). Its switch is also process-wide, refusing the
tests' own setup calls. So moto holds the roles and issues their credentials, and this
module does the authorization, as AWS documents it, per call:

- each function's role is created in moto with exactly the inline policy documents of
  the SAM-transformed template (devstack/iam.py), resolved to moto's ARNs; the function's
  clients are signed with that role's STS credentials, and the documents are read back
  from moto (whose validator they must pass) to evaluate;
- each call is mapped to the IAM actions and resources AWS checks for it (a batch call
  needs its batch action on every table it names, a query on an index needs the index's
  ARN, SendMessageBatch needs sqs:SendMessage on the queue), then evaluated: an explicit
  Deny wins, then any Allow, else denied. The managed policies SAM attaches (logs, X-Ray,
  the SQS poller) are evaluated too, from their published documents.

A call no policy allows raises AccessDeniedException in the code, as AWS would, and fails
the test naming the function, the action and the resource, even if the code caught it.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import cache
from importlib import import_module
from types import ModuleType
from typing import Any
from urllib.parse import urlparse

import boto3
import pytest
from botocore.exceptions import ClientError

from devstack.iam import Account, Role, roles
from devstack.template import FUNCTIONS, TEMPLATE
from parcelhooks.aws import clients

LEDGER_VARIABLE = "PARCELHOOKS_IAM_LEDGER"
ACCOUNT = Account()  # moto's account and region; tables and queues named by logical id

# The AWS managed policies SAM attaches to function roles, as AWS publishes them. The
# functions' code never needs them (the Lambda service writes logs, sends traces and
# polls the queues), but AWS would allow what they allow, so the evaluation does too.
MANAGED_POLICIES: dict[str, list[dict[str, Any]]] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "Resource": "*",
        }
    ],
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole": [
        {
            "Effect": "Allow",
            "Action": [
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            ],
            "Resource": "*",
        }
    ],
}

# ---------------------------------------------------------------------------------------
# Which actions and resources AWS authorizes for a call
# (Service Authorization Reference: Amazon DynamoDB, Amazon SQS).

_SQS_BATCH_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
_TRANSACT_ACTIONS = {
    "ConditionCheck": "ConditionCheckItem",
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "Get": "GetItem",
}


class UnmappedCallError(LookupError):
    """A call this module cannot map to IAM actions yet: add it here."""


def required_permissions(
    service: str, operation: str, params: dict[str, Any], account: Account = ACCOUNT
) -> list[tuple[str, str]]:
    """The (action, resource ARN) pairs AWS checks for one API call."""
    if service == "dynamodb":
        return _dynamodb(operation, params, account)
    if service == "sqs":
        action = f"sqs:{_SQS_BATCH_ACTIONS.get(operation, operation)}"
        if "QueueUrl" in params:
            return [(action, _queue_arn(params["QueueUrl"], account))]
        if "QueueName" in params:
            return [(action, account.queue_arn(params["QueueName"]))]
    raise UnmappedCallError(f"no IAM mapping for {service}:{operation} in tests/iam/enforce.py")


def _table_arn(table: str, account: Account) -> str:
    return table if table.startswith("arn:") else account.table_arn(table)


def _dynamodb(operation: str, params: dict[str, Any], account: Account) -> list[tuple[str, str]]:
    if operation in {"BatchGetItem", "BatchWriteItem"}:
        return [
            (f"dynamodb:{operation}", _table_arn(table, account))
            for table in params["RequestItems"]
        ]
    if operation in {"TransactGetItems", "TransactWriteItems"}:
        needed = []
        for item in params["TransactItems"]:
            [(kind, body)] = item.items()
            needed.append(
                (f"dynamodb:{_TRANSACT_ACTIONS[kind]}", _table_arn(body["TableName"], account))
            )
        return needed
    if "TableName" in params:
        arn = _table_arn(params["TableName"], account)
        if params.get("IndexName"):
            arn = f"{arn}/index/{params['IndexName']}"
        return [(f"dynamodb:{operation}", arn)]
    raise UnmappedCallError(f"no IAM mapping for dynamodb:{operation} in tests/iam/enforce.py")


def _queue_arn(url: str, account: Account) -> str:
    owner, name = urlparse(url).path.strip("/").split("/")[-2:]
    return f"arn:{account.partition}:sqs:{account.region}:{owner}:{name}"


# ---------------------------------------------------------------------------------------
# Policy evaluation (identity policies only: no resource policies, boundaries or SCPs here)

ALLOWED, DENIED, NOT_ALLOWED = "allowed", "explicitly denied", "not allowed"


class UnsupportedPolicyError(ValueError):
    """A policy element this evaluator does not model; it refuses rather than guess."""


@cache
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _matches(patterns: Any, value: str, *, ignore_case: bool) -> bool:
    listed = patterns if isinstance(patterns, list) else [patterns]
    return any(_glob(p, ignore_case).fullmatch(value) for p in listed)


def _applies(statement: dict[str, Any], action: str, resource: str) -> bool:
    if "Condition" in statement or "Principal" in statement or "NotPrincipal" in statement:
        raise UnsupportedPolicyError(f"cannot evaluate {sorted(statement)} in {statement}")
    if "Action" in statement:
        action_ok = _matches(statement["Action"], action, ignore_case=True)
    else:
        action_ok = not _matches(statement["NotAction"], action, ignore_case=True)
    if "Resource" in statement:
        resource_ok = _matches(statement["Resource"], resource, ignore_case=False)
    else:
        resource_ok = not _matches(statement["NotResource"], resource, ignore_case=False)
    return action_ok and resource_ok


def evaluate(statements: list[dict[str, Any]], action: str, resource: str) -> str:
    """ALLOWED, DENIED (an explicit Deny) or NOT_ALLOWED (no statement allows it)."""
    applying = [s for s in statements if _applies(s, action, resource)]
    if any(s["Effect"] == "Deny" for s in applying):
        return DENIED
    if any(s["Effect"] == "Allow" for s in applying):
        return ALLOWED
    return NOT_ALLOWED


def statements_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document["Statement"]
    return list(found) if isinstance(found, list) else [found]


# ---------------------------------------------------------------------------------------
# The ledger: every call each function made, and whether its policies allowed it


@dataclass(frozen=True)
class Call:
    function: str
    action: str
    resource: str
    decision: str  # ALLOWED, DENIED, NOT_ALLOWED, or why IAM refused the role's policy
    by: str  # "inline", "managed" (only an AWS managed policy allows it) or ""

    def describe(self) -> str:
        reason = "" if self.decision == ALLOWED else f" ({self.decision})"
        return f"{self.function}: {self.action} on {self.resource}{reason}"


class Ledger:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: dict[Call, list[str]] = {}
        self.test = ""
        self.refused: list[Call] = []

    def record(self, call: Call) -> None:
        with self._lock:
            tests = self.calls.setdefault(call, [])
            if self.test not in tests:
                tests.append(self.test)
            if call.decision != ALLOWED:
                self.refused.append(call)

    def write(self, path: str) -> None:
        rows = [{**asdict(call), "tests": tests} for call, tests in self.calls.items()]
        with open(path, "w") as out:
            json.dump({"calls": rows}, out, indent=1)


LEDGER = Ledger()


# ---------------------------------------------------------------------------------------
# Each function's clients, signed by its own role and checked call by call


@cache
def _session() -> boto3.Session:
    """One session for every client the tests make: its loader parses each model once."""
    return boto3.Session(region_name=ACCOUNT.region)


@cache
def _setup_client(service: str) -> Any:
    """IAM and STS as the test harness (moto resets their state, not the clients)."""
    return _session().client(service)


class FunctionGuard:
    """One function's role in moto, its credentials, and the check of each of its calls."""

    def __init__(self, role: Role, ledger: Ledger) -> None:
        self.function = role.function
        self._role = role
        self._ledger = ledger
        self._lock = threading.Lock()
        self._credentials: dict[str, str] | None = None
        self._inline: list[dict[str, Any]] = []
        self._managed = [s for arn in role.managed for s in MANAGED_POLICIES[arn]]
        self.principal = ""  # the assumed role, as AWS names the caller in AccessDenied

    def credentials(self) -> dict[str, str]:
        """The role's credentials; made on first use, inside the test's moto."""
        with self._lock:
            if self._credentials is None:
                try:
                    self._credentials = self._assume_role()
                except ClientError as error:
                    # The code would swallow it into a 500: fail the test with it instead.
                    refused = f"refused by IAM: {error.response['Error'].get('Message')}"
                    role = f"role/{self.function}Role"
                    self._ledger.record(Call(self.function, "iam:PutRolePolicy", role, refused, ""))
                    raise
            return self._credentials

    def _assume_role(self) -> dict[str, str]:
        iam = _setup_client("iam")
        name = f"{self.function}Role"
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
        for policy_name, document in self._role.documents.items():
            iam.put_role_policy(
                RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document)
            )
        # Evaluate what the role in moto holds: the documents as IAM accepted them.
        for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            held = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
            self._inline += statements_of(json.loads(held) if isinstance(held, str) else held)
        assumed = _setup_client("sts").assume_role(
            RoleArn=role["Arn"], RoleSessionName=self.function
        )
        self.principal = assumed["AssumedRoleUser"]["Arn"]
        credentials = assumed["Credentials"]
        return {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }

    def watch(self, client: Any) -> Any:
        client.meta.events.register("before-parameter-build", self._check)
        return client

    def _check(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.endpoint_prefix
        try:
            needed = required_permissions(service, model.name, params)
        except UnmappedCallError as error:
            needed = [(f"{service}:{model.name}", f"unmapped: {error}")]
        for action, resource in needed:
            call = self._decide(action, resource)
            self._ledger.record(call)
            if call.decision != ALLOWED:
                message = (
                    f"User: {self.principal} is not authorized to perform: "
                    f"{action} on resource: {resource} because no identity-based policy "
                    f"allows the {action} action"
                )
                raise ClientError(
                    {"Error": {"Code": "AccessDeniedException", "Message": message}}, model.name
                )

    def _decide(self, action: str, resource: str) -> Call:
        if resource.startswith("unmapped:"):
            return Call(self.function, action, resource, NOT_ALLOWED, "")
        inline = evaluate(self._inline, action, resource)
        if inline != NOT_ALLOWED:
            return Call(self.function, action, resource, inline, "inline")
        managed = evaluate(self._managed, action, resource)
        return Call(
            self.function, action, resource, managed, "managed" if managed == ALLOWED else ""
        )


class FunctionClients:
    """What a function's wiring module uses of parcelhooks.aws.clients, for that function."""

    def __init__(self, guard: FunctionGuard) -> None:
        self.guard = guard

    @cache  # noqa: B019 - one per function and test, like the module's own cache
    def dynamodb(self) -> Any:
        resource = _session().resource(
            "dynamodb", config=clients._CONFIG, **self.guard.credentials()
        )
        self.guard.watch(resource.meta.client)
        return resource

    @cache  # noqa: B019
    def sqs(self) -> Any:
        return self.guard.watch(
            _session().client("sqs", config=clients._CONFIG, **self.guard.credentials())
        )

    def table(self, name: str) -> Any:
        return self.dynamodb().Table(name)


_WIRING_IMPORT = re.compile(r"^from parcelhooks\.wiring import (\w+) as wiring\b", re.MULTILINE)


def wiring_modules() -> dict[str, ModuleType]:
    """Function logical id -> the wiring module its handler imports (where its clients are made)."""
    found = {}
    for function, folder in FUNCTIONS.items():
        app = TEMPLATE.parent / "functions" / folder / "app.py"
        [wiring] = _WIRING_IMPORT.findall(app.read_text())
        found[function] = import_module(f"parcelhooks.wiring.{wiring}")
    return found


def _outside_a_function(*_: Any, **__: Any) -> Any:
    raise AssertionError(
        "a boto3 client was made outside a function's wiring module: the IAM tests cannot "
        "tell whose role it needs (make clients only through parcelhooks/wiring/<function>.py)"
    )


def enforce(monkeypatch: pytest.MonkeyPatch, ledger: Ledger = LEDGER) -> dict[str, FunctionGuard]:
    """From now on in this test, each flow's clients are its function's, checked call by call."""
    guards = {}
    for function, role in roles(ACCOUNT).items():
        guards[function] = FunctionGuard(role, ledger)
    for function, module in wiring_modules().items():
        monkeypatch.setattr(module, "clients", FunctionClients(guards[function]))
    for name in ("dynamodb", "sqs", "table"):
        monkeypatch.setattr(clients, name, _outside_a_function)
    return guards


# ---------------------------------------------------------------------------------------
# The plugin


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Only the tests that build the moto stack make AWS calls: run just those."""
    kept = [item for item in items if "moto_stack" in getattr(item, "fixturenames", ())]
    dropped = [item for item in items if item not in kept]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(autouse=True)
def _iam_enforced(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    if "moto_stack" not in request.fixturenames:
        yield
        return
    LEDGER.test = request.node.nodeid
    refused_before = len(LEDGER.refused)
    enforce(monkeypatch)
    yield
    refused = LEDGER.refused[refused_before:]
    if refused:
        lines = "\n  ".join(dict.fromkeys(call.describe() for call in refused))
        pytest.fail(f"calls the functions' IAM policies do not allow:\n  {lines}", pytrace=False)


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = os.environ.get(LEDGER_VARIABLE)
    if path:
        LEDGER.write(path)
