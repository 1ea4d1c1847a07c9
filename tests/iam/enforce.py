"""Every AWS call a function makes, checked against that function's own IAM policies.

A pytest plugin: `pytest -p tests.iam.enforce tests/component` runs the component tests
with each function's boto3 clients signed by its own role, and every call they make checked
before it is sent (only the tests that build the moto stack make such calls). The component
tier runs with it; tests/iam/test_iam.py reads what it recorded (PARCELHOOKS_IAM_LEDGER
names the file, `{worker}` in it the xdist worker), or runs it itself, on just the moto
tests (PARCELHOOKS_IAM_MOTO_ONLY), when no record is given.

Why not moto's own access control (`set_initial_no_auth_action_count(0)`): moto 5.2.5
checks DynamoDB calls against Resource "*" (it never works out the table), so a policy
scoped to a table — every least-privilege policy — is refused everything, and it checks
SQS batch calls as `sqs:SendMessageBatch`, an action IAM does not have (AWS authorizes
SendMessageBatch by `sqs:SendMessage`). Its switch is also process-wide, refusing the
tests' own setup calls. So moto holds the roles and issues their credentials, and this
module does the authorization, as AWS documents it, per call:

- each function's role is created in moto with exactly the inline policy documents of
  the SAM-transformed template (devstack/iam.py), resolved to moto's ARNs (a KMS key is
  the one moto holds with its logical id as Description: see `stack_account`); the
  function's clients are signed with that role's STS credentials, and the documents are
  read back from moto (whose validator they must pass) to evaluate;
- each call is mapped to the IAM actions and resources AWS checks for it (a batch call
  needs its batch action on every table it names, a query on an index needs the index's
  ARN, SendMessageBatch needs sqs:SendMessage on the queue, SendEmail needs ses:SendEmail
  on the identity of its From address, a Decrypt needs kms:Decrypt on the key its
  ciphertext names), then evaluated: an explicit
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
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from email.utils import parseaddr
from functools import cache
from importlib import import_module
from types import ModuleType
from typing import Any
from urllib.parse import urlparse

import boto3
import pytest
from botocore.exceptions import ClientError

from devstack.iam import Account, roles
from devstack.template import FUNCTIONS, TEMPLATE, resources
from parcelhooks.aws import clients

LEDGER_VARIABLE = "PARCELHOOKS_IAM_LEDGER"
MOTO_ONLY_VARIABLE = "PARCELHOOKS_IAM_MOTO_ONLY"
ACCOUNT = Account()  # moto's account and region; tables and queues named by logical id
STACK_KEYS = tuple(resources("AWS::KMS::Key"))  # logical ids; moto names them by KeyId

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
# (Service Authorization Reference: Amazon DynamoDB, Amazon SQS, Amazon SES, AWS KMS).

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
# Those whose resource is the key their KeyId names (Decrypt's KeyId is optional).
_KMS_KEY_OPERATIONS = frozenset({"Encrypt", "Decrypt", "GenerateDataKey", "DescribeKey"})


class UnmappedCallError(LookupError):
    """A call this module cannot map to IAM actions yet: add it here."""


def _unreadable_ciphertext(params: dict[str, Any]) -> str:
    raise UnmappedCallError(
        "kms:Decrypt without a KeyId: its key is named in the ciphertext; pass key_of_ciphertext"
    )


def required_permissions(
    service: str,
    operation: str,
    params: dict[str, Any],
    account: Account = ACCOUNT,
    *,
    key_of_ciphertext: Callable[[dict[str, Any]], str] = _unreadable_ciphertext,
) -> list[tuple[str, str]]:
    """The (action, resource ARN) pairs AWS checks for one API call; `service` is its IAM
    prefix. A Decrypt without a KeyId asks `key_of_ciphertext` for its key's ARN."""
    if service == "dynamodb":
        return _dynamodb(operation, params, account)
    if service == "ses" and operation == "SendEmail":
        return [("ses:SendEmail", _sending_identity_arn(params, account))]
    if service == "kms" and operation in _KMS_KEY_OPERATIONS:
        if "KeyId" in params:
            return [(f"kms:{operation}", _key_arn(params["KeyId"], account))]
        if operation == "Decrypt":
            return [("kms:Decrypt", key_of_ciphertext(params))]
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


def _sending_identity_arn(params: dict[str, Any], account: Account) -> str:
    """The identity SES authorizes a send against: the Source's address (for an address at
    a domain AWS also accepts the domain's identity, but our policy names the address), or
    SourceArn's when sending for another account's identity."""
    if params.get("SourceArn"):
        return str(params["SourceArn"])
    _, address = parseaddr(params["Source"])  # "Display Name <address>" sends from the address
    if not address:
        raise UnmappedCallError(f"ses:SendEmail from an unparseable Source {params['Source']!r}")
    return account.identity_arn(address)


def _key_arn(key_id: str, account: Account) -> str:
    if key_id.startswith("alias/") or ":alias/" in key_id:
        # AWS authorizes the key the alias points to; nothing here tracks aliases yet.
        raise UnmappedCallError(f"kms by alias ({key_id}): map the alias to its key here")
    return key_id if key_id.startswith("arn:") else account.key_arn(key_id)


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
    resource: str  # as the template names it: a stack's key by its logical id, not its KeyId
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
    """IAM, STS and KMS as the test harness (moto resets their state, not the clients)."""
    return _session().client(service)


class StackLookupError(LookupError):
    """The test's moto stack does not hold what the template's policies name."""


def stack_account() -> Account:
    """ACCOUNT with the physical ids of the test's moto stack, looked up in moto.

    Tables and queues are named by their logical ids; a KMS key cannot be named, so each
    AWS::KMS::Key is the one key (not pending deletion) whose Description is its logical
    id: tests/component/stack.py creates them so, and the KeyId it gets is what the
    functions are given. Any other count fails loudly rather than pick a key."""
    kms = _setup_client("kms")
    described: dict[str, list[str]] = {}
    for page in kms.get_paginator("list_keys").paginate():
        for key in page["Keys"]:
            metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            if metadata["KeyState"] != "PendingDeletion":
                described.setdefault(metadata.get("Description", ""), []).append(key["KeyId"])
    names = dict(ACCOUNT.names)
    for logical_id in STACK_KEYS:
        found = described.get(logical_id, [])
        if len(found) != 1:
            raise StackLookupError(
                f"{len(found)} KMS keys in moto have the Description {logical_id!r}: the moto "
                "stack (tests/component/stack.py) creates one per AWS::KMS::Key, described so"
            )
        names[logical_id] = found[0]
    return replace(ACCOUNT, names=names)


class FunctionGuard:
    """One function's role in moto, its credentials, and the check of each of its calls.

    The role's documents are resolved on first use, inside the test's moto, for the account
    its stack makes (`stack_account`): its keys exist only once the stack is built."""

    def __init__(self, function: str, ledger: Ledger) -> None:
        self.function = function
        self._ledger = ledger
        self._lock = threading.Lock()
        self._credentials: dict[str, str] | None = None
        self._inline: list[dict[str, Any]] = []
        self._managed: list[dict[str, Any]] = []
        # The ARN of each of the stack's KMS keys -> the ARN ACCOUNT gives it (by logical id),
        # so that the ledger, merged across tests (each its own KeyIds), reads as the template.
        self._stack_keys: dict[str, str] = {}
        self.principal = ""  # the assumed role, as AWS names the caller in AccessDenied

    def credentials(self) -> dict[str, str]:
        """The role's credentials; made on first use, inside the test's moto."""
        with self._lock:
            if self._credentials is None:
                try:
                    self._credentials = self._assume_role()
                except (ClientError, StackLookupError) as error:
                    # The code would swallow it into a 500: fail the test with it instead.
                    refused = (
                        f"refused by IAM: {error.response['Error'].get('Message')}"
                        if isinstance(error, ClientError)
                        else f"its policies name what the moto stack lacks: {error}"
                    )
                    role = f"role/{self.function}Role"
                    self._ledger.record(Call(self.function, "iam:PutRolePolicy", role, refused, ""))
                    raise
            return self._credentials

    def _assume_role(self) -> dict[str, str]:
        account = stack_account()
        resolved = roles(account)[self.function]
        self._managed = [s for arn in resolved.managed for s in MANAGED_POLICIES[arn]]
        self._stack_keys = {
            account.key_arn(account.name(key)): ACCOUNT.key_arn(ACCOUNT.name(key))
            for key in STACK_KEYS
        }
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
        for policy_name, document in resolved.documents.items():
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
        service = model.service_model.signing_name  # the IAM prefix (SES's endpoint is "email")
        try:
            needed = required_permissions(
                service, model.name, params, key_of_ciphertext=self._key_of_ciphertext
            )
        except UnmappedCallError as error:
            needed = [(f"{service}:{model.name}", f"unmapped: {error}")]
        for action, resource in needed:
            call = self._decide(action, resource)
            self._ledger.record(replace(call, resource=self._stack_keys.get(resource, resource)))
            if call.decision != ALLOWED:
                message = (
                    f"User: {self.principal} is not authorized to perform: "
                    f"{action} on resource: {resource} because no identity-based policy "
                    f"allows the {action} action"
                )
                raise ClientError(
                    {"Error": {"Code": "AccessDeniedException", "Message": message}}, model.name
                )

    def _key_of_ciphertext(self, params: dict[str, Any]) -> str:
        """The key a ciphertext names, as moto tells it: its Decrypt answers with the key's
        ARN (AWS does not publish the ciphertext's format, and moto's is its own)."""
        opening = {k: params[k] for k in ("CiphertextBlob", "EncryptionContext") if k in params}
        try:
            arn: str = _setup_client("kms").decrypt(**opening)["KeyId"]
        except ClientError:
            # Moto will not open it (another encryption context, a damaged value): AWS still
            # authorizes against the key in its header before refusing it. The stack's code
            # seals with the stack's key, so with one key that is the one.
            if len(self._stack_keys) == 1:
                [key] = self._stack_keys
                return key
            raise UnmappedCallError(
                "kms:Decrypt of a ciphertext moto cannot open, with no KeyId and "
                f"{len(self._stack_keys)} keys in the stack: pass its KeyId"
            ) from None
        return arn

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

    @cache  # noqa: B019
    def sqs_single_attempt(self) -> Any:
        return self.guard.watch(
            _session().client("sqs", config=clients._SINGLE_ATTEMPT, **self.guard.credentials())
        )

    @cache  # noqa: B019
    def ses(self) -> Any:
        return self.guard.watch(
            _session().client("ses", config=clients._SES_CONFIG, **self.guard.credentials())
        )

    @cache  # noqa: B019
    def kms(self) -> Any:
        return self.guard.watch(
            _session().client("kms", config=clients._CONFIG, **self.guard.credentials())
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
    roles(ACCOUNT)  # a template the resolver cannot read fails here, not in the code's calls
    guards = {function: FunctionGuard(function, ledger) for function in FUNCTIONS}
    for function, module in wiring_modules().items():
        monkeypatch.setattr(module, "clients", FunctionClients(guards[function]))
    for name in ("dynamodb", "sqs", "ses", "kms", "table"):
        monkeypatch.setattr(clients, name, _outside_a_function)
    return guards


# ---------------------------------------------------------------------------------------
# The plugin


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Only the tests that build the moto stack make AWS calls: when asked, run just those."""
    if not os.environ.get(MOTO_ONLY_VARIABLE):
        return
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
    if path and LEDGER.calls:
        LEDGER.write(path.replace("{worker}", os.environ.get("PYTEST_XDIST_WORKER", "main")))
