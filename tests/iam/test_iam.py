"""Each function's AWS calls against its own IAM policy, as SAM deploys it.

`enforced_run` reads what the component tier recorded, each function under its own role
(tests/iam/enforce.py; `make test` names the record), or runs every component test that
builds the moto stack again that way (`make iam` alone), and records each call. From that
record: every call is allowed (removing a permission from template.yaml fails here, naming
the function, action and resource), and every grant is used (a permission no test needed
fails here too, unless excepted below with a reason). The code paths no handler test
reaches (the authorizer and the fan-out against AWS) are driven by
tests/component/test_functions_on_moto.py, so that they run under IAM as well. The rest of
this module checks the policies as written, the evaluation itself, and, on the moto stack,
that the enforcement finds the stack's KMS key and the sender's SES identity.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.authorization import enable_iam_authentication

from devstack.iam import TEMPLATE, Account, lint, roles
from devstack.template import FUNCTIONS, parameter_default
from tests.iam.enforce import (
    ALLOWED,
    LEDGER_VARIABLE,
    MANAGED_POLICIES,
    MOTO_ONLY_VARIABLE,
    NOT_ALLOWED,
    FunctionClients,
    Ledger,
    StackLookupError,
    UnmappedCallError,
    UnsupportedPolicyError,
    enforce,
    evaluate,
    required_permissions,
    stack_account,
    wiring_modules,
)

ROOT = TEMPLATE.parent
# A folder of ledgers the component tier wrote under tests.iam.enforce (Makefile).
RECORDED_VARIABLE = "PARCELHOOKS_IAM_RECORDED"
REGION = "us-east-1"
# `-m pytest` puts the repository on sys.path before `-p tests.iam.enforce` is imported.
ENFORCED_RUN = (sys.executable, "-m", "pytest", "-p", "tests.iam.enforce")
ENFORCED_RUN += ("-p", "no:cacheprovider")
ENFORCED_RUN += ("-q", "--tb=line", "-rfE")

# Grants no test uses, each with the reason it stays: (function, action, resource) -> why.
# Resources are written as after the account in the ARN: "table/X", "table/X/index/Y", "Q",
# "key/X" (a stack's key by its logical id), "identity/address".
UNUSED_GRANTS: dict[tuple[str, str, str], str] = {}

# The AWS managed policies SAM attaches to the roles it makes. They are not ours to narrow
# without writing the roles by hand; the functions' code calls none of their actions.
MANAGED_POLICY_REASONS = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": (
        "every SAM function role: the Lambda service writes the function's logs"
    ),
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": (
        "Tracing: Active: the Lambda service sends traces; X-Ray has no resource-level permissions"
    ),
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole": (
        "the fan-out's SQS event sources: Lambda's poller receives and deletes with this role"
    ),
}


# ---------------------------------------------------------------------------------------
# The enforced run and what it recorded


@dataclass(frozen=True)
class EnforcedRun:
    returncode: int
    output: str
    calls: list[dict[str, Any]]

    def of(self, function: str) -> list[dict[str, Any]]:
        return [call for call in self.calls if call["function"] == function]

    def summary(self) -> str:
        keep = re.compile(r"^((FAILED|ERROR) \S+::|.*\d+ (passed|failed|errors?)\b.* in [\d.]+s)")
        lines = [line for line in self.output.splitlines() if keep.match(line)]
        return "\n".join(lines[-40:]) or self.output[-4000:]


@pytest.fixture(scope="session")
def enforced_run(tmp_path_factory: pytest.TempPathFactory) -> EnforcedRun:
    """What the component tests recorded with IAM enforced: read from the component tier's
    run when `make test` names its record (RECORDED_VARIABLE), else run here, just the moto
    tests, in a process per core (files dealt round-robin)."""
    if os.environ.get(LEDGER_VARIABLE):
        pytest.skip("already inside the enforced run")
    recorded = os.environ.get(RECORDED_VARIABLE)
    if recorded:
        ledgers = sorted(Path(recorded).glob("*.json"))
        assert ledgers, f"the component tier recorded no IAM ledger in {recorded}"
        # The component tier passed, or make would not have gone on to this tier.
        return EnforcedRun(0, f"recorded by the component tier in {recorded}", _merged(ledgers))
    folder = tmp_path_factory.mktemp("iam")
    component = ROOT / "tests" / "component"
    files = sorted(str(p.relative_to(ROOT)) for p in component.glob("test_*.py"))
    shards = max(1, min(os.cpu_count() or 1, 4))
    running = []
    for shard in range(shards):
        ledger = folder / f"ledger-{shard}.json"
        process = subprocess.Popen(
            [*ENFORCED_RUN, *files[shard::shards]],
            cwd=ROOT,
            env={
                **os.environ,
                LEDGER_VARIABLE: str(ledger),
                MOTO_ONLY_VARIABLE: "1",
                "COLUMNS": "200",
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        running.append((process, ledger))
    returncode, output = 0, ""
    for process, _ in running:
        out, _ = process.communicate(timeout=900)
        # pytest exits 5 when a shard holds no test that builds the stack: that is fine.
        returncode = max(returncode, 0 if process.returncode == 5 else process.returncode)
        output += out
    ledgers = [ledger for _, ledger in running if ledger.exists()]
    return EnforcedRun(returncode, output, _merged(ledgers))


def _merged(ledgers: list[Path]) -> list[dict[str, Any]]:
    """The calls of several ledgers, one row per call with every test that made it."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for ledger in ledgers:
        for call in json.loads(ledger.read_text())["calls"]:
            key = tuple(call[k] for k in ("function", "action", "resource", "decision", "by"))
            merged.setdefault(key, {**call, "tests": []})["tests"] += call["tests"]
    return list(merged.values())


def _short(resource: str) -> str:
    """An ARN after its account: table/X, table/X/index/Y, or a queue's name."""
    return resource.split(":", 5)[5] if resource.startswith("arn:") else resource


def _listed(calls: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  {c['action']} on {_short(c['resource'])} ({c['decision']}), e.g. in {c['tests'][0]}"
        for c in calls
    )


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_call_a_function_makes_is_allowed_by_its_own_policy(
    function: str, enforced_run: EnforcedRun
) -> None:
    refused = [c for c in enforced_run.of(function) if c["decision"] != ALLOWED]
    assert not refused, (
        f"{function}'s IAM policy in template.yaml does not allow calls its code makes "
        "(or IAM refuses the policy itself):\n" + _listed(refused)
    )
    managed = [c for c in enforced_run.of(function) if c["by"] == "managed"]
    assert not managed, (
        f"{function} relies on an AWS managed policy (Resource *) for these calls; "
        "grant them in its Policies:\n" + _listed(managed)
    )


def test_the_handler_tests_pass_with_each_function_under_its_own_role(
    enforced_run: EnforcedRun,
) -> None:
    assert enforced_run.returncode == 0, (
        "the component tests with IAM enforced (python -m pytest -p tests.iam.enforce "
        "tests/component):\n" + enforced_run.summary()
    )
    assert {c["function"] for c in enforced_run.calls} == set(FUNCTIONS)


def _grants(function: str) -> list[tuple[str, str]]:
    grants = []
    for statement in roles()[function].statements():
        if statement["Effect"] == "Allow":
            for action in _as_list(statement["Action"]):
                grants += [(action, resource) for resource in _as_list(statement["Resource"])]
    return grants


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_holds_no_permission_its_tests_do_not_use(
    function: str, enforced_run: EnforcedRun
) -> None:
    used = [(c["action"], c["resource"]) for c in enforced_run.of(function)]
    unused = [
        f"  {action} on {_short(resource)}"
        for action, resource in _grants(function)
        if (function, action, _short(resource)) not in UNUSED_GRANTS
        and not any(
            evaluate([{"Effect": "Allow", "Action": action, "Resource": resource}], *call)
            == ALLOWED
            for call in used
        )
    ]
    assert not unused, (
        f"{function}'s policy grants what none of its tests used: remove it from template.yaml, "
        "or list it in UNUSED_GRANTS with the reason it stays:\n" + "\n".join(unused)
    )


def test_every_unused_grant_exception_is_still_granted_and_unused(
    enforced_run: EnforcedRun,
) -> None:
    for (function, action, resource), _reason in UNUSED_GRANTS.items():
        assert (action, resource) in {(a, _short(r)) for a, r in _grants(function)}
        assert not any(
            c["action"] == action and _short(c["resource"]) == resource
            for c in enforced_run.of(function)
        ), f"{function} now uses {action} on {resource}: drop it from UNUSED_GRANTS"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_policy_uses_a_wildcard_action_or_resource(function: str) -> None:
    wild = [
        f"  {action} on {resource}"
        for action, resource in _grants(function)
        if "*" in action or "*" in resource or "?" in action or "?" in resource
    ]
    assert not wild, f"{function}: name the actions and resources, not patterns:\n" + "\n".join(
        wild
    )


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_only_managed_policies_are_the_ones_sam_attaches(function: str) -> None:
    managed = set(roles()[function].managed)
    assert managed <= set(MANAGED_POLICY_REASONS), (
        f"{function} has managed policies nobody reviewed: {managed - set(MANAGED_POLICY_REASONS)}"
    )
    assert managed <= set(MANAGED_POLICIES)  # their documents are known to the evaluation


def test_an_authorizer_that_only_reads_keys_can_do_nothing_else() -> None:
    statements = roles()["AuthorizerFunction"].statements()
    account = Account()
    assert evaluate(statements, "dynamodb:GetItem", account.table_arn("ApiKeysTable")) == ALLOWED
    for action, resource in [
        ("dynamodb:PutItem", account.table_arn("ApiKeysTable")),
        ("dynamodb:Scan", account.table_arn("ApiKeysTable")),
        ("dynamodb:PutItem", account.table_arn("SubscriptionsTable")),
        ("dynamodb:GetItem", account.table_arn("SubscriptionsTable")),
        ("sqs:SendMessage", account.queue_arn("EventsQueue")),
    ]:
        assert evaluate(statements, action, resource) == NOT_ALLOWED, (action, resource)


SENDER = parameter_default("EmailFromAddress")
HEADER_KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"  # as moto or AWS would name the key
KEYED = Account(names={"HeaderSecretsKey": HEADER_KEY_ID})


def test_the_fanout_may_send_email_only_from_the_configured_identity() -> None:
    statements = roles()["FanoutFunction"].statements()
    account = Account()
    assert evaluate(statements, "ses:SendEmail", account.identity_arn(SENDER)) == ALLOWED
    sender_domain = SENDER.split("@")[1]
    for identity in ("someone-else@example.com", sender_domain, "parcelhooks@example.org"):
        arn = account.identity_arn(identity)
        assert evaluate(statements, "ses:SendEmail", arn) == NOT_ALLOWED, identity
    # A send from another Source, mapped as the enforcement maps the call, is refused.
    [(action, resource)] = required_permissions(
        "ses", "SendEmail", {"Source": "Parcelhooks <someone-else@example.com>"}
    )
    assert evaluate(statements, action, resource) == NOT_ALLOWED
    [(action, resource)] = required_permissions("ses", "SendEmail", {"Source": SENDER})
    assert evaluate(statements, action, resource) == ALLOWED


def test_the_fanout_may_open_header_secrets_but_not_seal_them() -> None:
    statements = roles(KEYED)["FanoutFunction"].statements()
    key = KEYED.key_arn(HEADER_KEY_ID)
    assert evaluate(statements, "kms:Decrypt", key) == ALLOWED
    assert evaluate(statements, "kms:Encrypt", key) == NOT_ALLOWED
    assert evaluate(statements, "kms:Decrypt", KEYED.key_arn("another-key")) == NOT_ALLOWED


def test_the_admin_function_may_seal_header_secrets_but_not_open_them() -> None:
    statements = roles(KEYED)["AdminFunction"].statements()
    key = KEYED.key_arn(HEADER_KEY_ID)
    assert evaluate(statements, "kms:Encrypt", key) == ALLOWED
    assert evaluate(statements, "kms:Decrypt", key) == NOT_ALLOWED
    assert evaluate(statements, "kms:Encrypt", KEYED.key_arn("another-key")) == NOT_ALLOWED


@pytest.mark.parametrize("function", sorted(set(FUNCTIONS) - {"FanoutFunction", "AdminFunction"}))
def test_no_other_function_may_send_email_or_use_the_header_key(function: str) -> None:
    statements = roles(KEYED)[function].statements()
    for action, resource in [
        ("ses:SendEmail", KEYED.identity_arn(SENDER)),
        ("kms:Encrypt", KEYED.key_arn(HEADER_KEY_ID)),
        ("kms:Decrypt", KEYED.key_arn(HEADER_KEY_ID)),
    ]:
        assert evaluate(statements, action, resource) == NOT_ALLOWED, (action, resource)


def test_parliament_finds_nothing_in_any_function_policy() -> None:
    findings = lint()
    assert not findings, "parliament:\n" + "\n".join(f"  {f}" for f in findings)


# ---------------------------------------------------------------------------------------
# The evaluation itself


def test_calls_map_to_the_actions_and_resources_aws_checks() -> None:
    account = Account()
    queue = "https://sqs.us-east-1.amazonaws.com/123456789012/RetryQueue"
    assert required_permissions("sqs", "SendMessageBatch", {"QueueUrl": queue}) == [
        ("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:RetryQueue")
    ]
    assert required_permissions(
        "dynamodb", "Query", {"TableName": "T", "IndexName": "by-owner"}
    ) == [("dynamodb:Query", account.table_arn("T") + "/index/by-owner")]
    assert required_permissions(
        "dynamodb", "BatchWriteItem", {"RequestItems": {"A": [], "B": []}}
    ) == [
        ("dynamodb:BatchWriteItem", account.table_arn("A")),
        ("dynamodb:BatchWriteItem", account.table_arn("B")),
    ]
    transact = {
        "TransactItems": [{"Put": {"TableName": "A"}}, {"ConditionCheck": {"TableName": "B"}}]
    }
    assert required_permissions("dynamodb", "TransactWriteItems", transact) == [
        ("dynamodb:PutItem", account.table_arn("A")),
        ("dynamodb:ConditionCheckItem", account.table_arn("B")),
    ]
    with pytest.raises(UnmappedCallError, match="dynamodb:ExecuteStatement"):
        required_permissions("dynamodb", "ExecuteStatement", {"Statement": "SELECT"})


def test_email_and_key_calls_map_to_the_identity_and_key_aws_checks() -> None:
    account = Account()
    sender = account.identity_arn("shop@example.com")
    for source in ("shop@example.com", "Shop <shop@example.com>"):
        assert required_permissions("ses", "SendEmail", {"Source": source}) == [
            ("ses:SendEmail", sender)
        ]
    behalf = "arn:aws:ses:us-east-1:210987654321:identity/example.net"
    sent_for = {"Source": "shop@example.net", "SourceArn": behalf}
    assert required_permissions("ses", "SendEmail", sent_for) == [("ses:SendEmail", behalf)]
    key = account.key_arn(HEADER_KEY_ID)
    for key_id in (HEADER_KEY_ID, key):
        assert required_permissions("kms", "Encrypt", {"KeyId": key_id}) == [("kms:Encrypt", key)]
        assert required_permissions("kms", "Decrypt", {"KeyId": key_id}) == [("kms:Decrypt", key)]
    # Without a KeyId, the key is the one the ciphertext names.
    assert required_permissions(
        "kms", "Decrypt", {"CiphertextBlob": b"sealed"}, key_of_ciphertext=lambda _: key
    ) == [("kms:Decrypt", key)]
    with pytest.raises(UnmappedCallError, match="KeyId"):
        required_permissions("kms", "Decrypt", {"CiphertextBlob": b"sealed"})
    with pytest.raises(UnmappedCallError, match="alias"):
        required_permissions("kms", "Encrypt", {"KeyId": "alias/parcelhooks"})


def test_the_evaluation_follows_iam_rules() -> None:
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/Subscriptions"
    allow = {"Effect": "Allow", "Action": "dynamodb:Get*", "Resource": table}
    assert evaluate([allow], "dynamodb:GetItem", table) == ALLOWED
    assert evaluate([allow], "DynamoDB:getitem", table) == ALLOWED  # actions ignore case
    assert evaluate([allow], "dynamodb:GetItem", table.lower()) == NOT_ALLOWED  # ARNs do not
    assert evaluate([allow], "dynamodb:GetItem", table + "/index/x") == NOT_ALLOWED
    assert evaluate([allow], "dynamodb:PutItem", table) == NOT_ALLOWED
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*"}
    assert evaluate([allow, deny], "dynamodb:GetItem", table) != ALLOWED
    everything_but = {"Effect": "Allow", "NotAction": "dynamodb:Delete*", "Resource": "*"}
    assert evaluate([everything_but], "dynamodb:PutItem", table) == ALLOWED
    assert evaluate([everything_but], "dynamodb:DeleteItem", table) == NOT_ALLOWED
    conditional = {**allow, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
    with pytest.raises(UnsupportedPolicyError):
        evaluate([conditional], "dynamodb:GetItem", table)


@pytest.fixture
def enforced_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[dict[str, str], Ledger]]:
    """The component tier's moto stack, each function's clients under its own role."""
    # Here, not at the top: the policy tests above need none of the layer's flows.
    from tests.component.stack import build_stack

    with mock_aws():
        env = build_stack()
        ledger = Ledger()
        enforce(monkeypatch, ledger)
        yield env, ledger


def test_under_its_role_the_fanout_opens_and_sends_and_the_admin_function_only_seals(
    enforced_stack: tuple[dict[str, str], Ledger],
) -> None:
    env, ledger = enforced_stack
    key_id = env["HEADER_SECRETS_KEY_ID"]
    wiring = wiring_modules()
    admin, fanout = wiring["AdminFunction"].clients, wiring["FanoutFunction"].clients
    context = {"parcelhooks:merchant": "merchant-a", "parcelhooks:subscription": "s-1"}
    sealed = admin.kms().encrypt(KeyId=key_id, Plaintext=b"token", EncryptionContext=context)
    blob = sealed["CiphertextBlob"]
    opened = fanout.kms().decrypt(CiphertextBlob=blob, EncryptionContext=context)
    assert opened["Plaintext"] == b"token"
    with pytest.raises(ClientError, match="InvalidCiphertext"):  # authorized, then refused
        fanout.kms().decrypt(CiphertextBlob=blob, EncryptionContext={"other": "context"})
    with pytest.raises(ClientError, match="AccessDenied"):
        admin.kms().decrypt(CiphertextBlob=blob, EncryptionContext=context)
    with pytest.raises(ClientError, match="AccessDenied"):
        fanout.kms().encrypt(KeyId=key_id, Plaintext=b"token", EncryptionContext=context)
    mail = {
        "Destination": {"ToAddresses": ["ops@example.com"]},
        "Message": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
    }
    fanout.ses().send_email(Source=SENDER, **mail)
    with pytest.raises(ClientError, match="AccessDenied"):
        fanout.ses().send_email(Source="someone-else@example.com", **mail)
    # Decided on moto's key (the policies name its KeyId), recorded by its logical id.
    key, identity = Account().key_arn("HeaderSecretsKey"), Account().identity_arn
    assert {(c.function, c.action, c.resource, c.decision) for c in ledger.calls} == {
        ("AdminFunction", "kms:Encrypt", key, ALLOWED),
        ("FanoutFunction", "kms:Decrypt", key, ALLOWED),
        ("AdminFunction", "kms:Decrypt", key, NOT_ALLOWED),
        ("FanoutFunction", "kms:Encrypt", key, NOT_ALLOWED),
        ("FanoutFunction", "ses:SendEmail", identity(SENDER), ALLOWED),
        ("FanoutFunction", "ses:SendEmail", identity("someone-else@example.com"), NOT_ALLOWED),
    }


def test_the_stack_key_is_the_one_described_by_its_logical_id_and_never_guessed(
    enforced_stack: tuple[dict[str, str], Ledger],
) -> None:
    env, _ = enforced_stack
    kms = boto3.client("kms", region_name=REGION)
    account = stack_account()
    key = kms.describe_key(KeyId=env["HEADER_SECRETS_KEY_ID"])["KeyMetadata"]["Arn"]
    assert account.key_arn(account.name("HeaderSecretsKey")) == key
    kms.create_key(Description="HeaderSecretsKey")
    with pytest.raises(StackLookupError, match="2 KMS keys"):
        stack_account()


@pytest.fixture
def moto_with_a_role() -> Iterator[tuple[boto3.Session, str]]:
    """A table, a queue, and a session of a role allowed PutItem on the one, SendMessage on
    the other: exactly what AWS would let it do."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName="T",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        url = boto3.client("sqs", region_name=REGION).create_queue(QueueName="Q")["QueueUrl"]
        account = Account()
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "dynamodb:PutItem",
                    "Resource": account.table_arn("T"),
                },
                {
                    "Effect": "Allow",
                    "Action": "sqs:SendMessage",
                    "Resource": account.queue_arn("Q"),
                },
            ],
        }
        iam = boto3.client("iam", region_name=REGION)
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
            ],
        }
        arn = iam.create_role(RoleName="R", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]
        iam.put_role_policy(RoleName="R", PolicyName="p", PolicyDocument=json.dumps(policy))
        credentials = boto3.client("sts", region_name=REGION).assume_role(
            RoleArn=arn, RoleSessionName="probe"
        )["Credentials"]
        yield (
            boto3.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                region_name=REGION,
            ),
            url,
        )


def test_moto_alone_would_refuse_what_aws_allows(
    moto_with_a_role: tuple[boto3.Session, str],
) -> None:
    """Why tests/iam/enforce.py authorizes calls itself: with moto 5.2.5's access control on, a role
    allowed PutItem on a table is refused it (moto checks DynamoDB against Resource "*"),
    and one allowed sqs:SendMessage is refused SendMessageBatch (moto checks an action IAM
    does not have). If this fails, moto learned both: consider its access control again."""
    session, url = moto_with_a_role
    with enable_iam_authentication():
        session.client("sqs").send_message(QueueUrl=url, MessageBody="allowed and sent")
        with pytest.raises(ClientError, match=r"AccessDenied|403"):
            session.client("dynamodb").put_item(TableName="T", Item={"id": {"S": "1"}})
        with pytest.raises(ClientError, match=r"AccessDenied|403"):
            session.client("sqs").send_message_batch(
                QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "allowed by AWS"}]
            )


def test_each_function_s_clients_stand_in_for_every_client_the_package_makes() -> None:
    """A client maker of parcelhooks.aws.clients with no stand-in would reach AWS with no
    role (the component tier fails on it with an AttributeError, far from the cause)."""
    from parcelhooks.aws import clients

    makers = {
        name
        for name, value in vars(clients).items()
        if callable(value)
        and not name.startswith("_")
        and getattr(value, "__module__", "") == clients.__name__
    }
    assert makers <= set(dir(FunctionClients))
