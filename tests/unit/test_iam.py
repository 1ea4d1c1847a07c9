"""Each function's AWS calls against its own IAM policy, as SAM deploys it.

`enforced_run` runs every unit test that builds the moto stack again, with each function
under its own role (tests/iam.py; by hand: `python -m pytest -p tests.iam tests/unit`),
and records each call. From that record: every call is allowed (removing a permission
from template.yaml fails here, naming the function, action and resource), and every
grant is used (a permission no test needed fails here too, unless excepted below with a
reason). The first tests in this module drive the code paths the handler tests do not
reach — the authorizer and the fan-out against AWS — so that they run under IAM as well.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.authorization import enable_iam_authentication

from devstack.iam import TEMPLATE, Account, lint, roles, transformed
from devstack.template import FUNCTIONS, parameter_default
from parcelhooks.auth.keys import create_key, generate_key
from parcelhooks.aws.api_keys_table import ApiKeysTable
from parcelhooks.aws.idempotency_table import EventClaimsTable
from parcelhooks.aws.subscriptions_table import SubscriptionsTable
from parcelhooks.core.api_keys import Role
from parcelhooks.core.deliveries import DeliveryJob
from parcelhooks.core.ids import delivery_id
from parcelhooks.wiring import fanout as fanout_wiring
from parcelhooks.wiring import ingest as ingest_wiring
from tests.factories import (
    EVENTS_DIR,
    LambdaContextStub,
    api_event,
    carrier_event,
    load_function,
    shipment_event,
    sqs_event,
    subscription,
)
from tests.fakes import ScriptedSender
from tests.iam import (
    ALLOWED,
    LEDGER_VARIABLE,
    MANAGED_POLICIES,
    NOT_ALLOWED,
    UnmappedCallError,
    UnsupportedPolicyError,
    evaluate,
    required_permissions,
)

ROOT = TEMPLATE.parent
REGION = "us-east-1"
# `-m pytest` puts the repository on sys.path before `-p tests.iam` is imported.
ENFORCED_RUN = (sys.executable, "-m", "pytest", "-p", "tests.iam", "-p", "no:cacheprovider")
ENFORCED_RUN += ("-q", "--tb=line", "-rfE")

# Grants no test uses, each with the reason it stays: (function, action, resource) -> why.
# Resources are written as after the account in the ARN: "table/X", "table/X/index/Y", "Q".
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


def _resource(table_or_queue: str) -> Any:
    return boto3.resource("dynamodb", region_name=REGION).Table(table_or_queue)


def _messages(queue_url: str) -> int:
    """Messages in a queue, delayed ones included (retries wait before they are visible)."""
    attributes = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


# ---------------------------------------------------------------------------------------
# Code paths against AWS that no handler test reaches: they run here, and under IAM.


def test_the_authorizer_reads_a_live_key_and_refuses_unknown_and_revoked_ones(
    moto_stack: dict[str, str],
) -> None:
    keys = ApiKeysTable(_resource(moto_stack["API_KEYS_TABLE"]))
    key, record = create_key(keys, Role.CARRIER, "correios")
    app = load_function("authorizer")
    event = json.loads((EVENTS_DIR / "lambda" / "authorizer-request.json").read_text())
    event["headers"] = {"Authorization": f"Bearer {key}"}
    decision = app.handler(event, LambdaContextStub())
    assert decision["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert decision["context"]["owner_id"] == "correios"
    unknown = {**event, "headers": {"Authorization": f"Bearer {generate_key()}"}}
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        app.handler(unknown, LambdaContextStub())
    keys.revoke(record.key_id, datetime.now(UTC))
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        app.handler(event, LambdaContextStub())


@pytest.fixture
def fanout_app(moto_stack: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The fan-out handler as built for Lambda, AWS adapters and all; only the POSTs are fake:
    a.example/ok answers 204, /failing 500, /gone 410."""
    store = SubscriptionsTable(_resource(moto_stack["SUBSCRIPTIONS_TABLE"]))
    for name in ("ok", "failing", "gone"):
        store.put(subscription(id=f"sub_{name}", url=f"https://a.example/{name}"))
    sender = ScriptedSender(
        {
            "https://a.example/ok": [204],
            "https://a.example/failing": [500],
            "https://a.example/gone": [410],
        }
    )
    monkeypatch.setattr(fanout_wiring, "HttpSender", lambda **_: sender)
    return load_function("fanout")


def _retry_job(attempt: int, due_at: datetime) -> DeliveryJob:
    event = shipment_event(event_id="evt_iam")
    return DeliveryJob(
        delivery_id=delivery_id(event.event_id, "sub_failing"),
        event=event,
        subscription_id="sub_failing",
        merchant_id="merchant-a",
        attempt=attempt,
        due_at=due_at,
        first_attempt_at=due_at - timedelta(hours=1),
        last_attempt_at=due_at - timedelta(minutes=1),
        last_status=500,
    )


def test_the_fanout_logs_marks_retries_and_disables_through_aws(
    fanout_app: Any, moto_stack: dict[str, str]
) -> None:
    event = shipment_event(event_id="evt_iam")
    sent = fanout_app.handler(sqs_event([event.model_dump_json()]), LambdaContextStub())
    assert sent == {"batchItemFailures": []}
    store = SubscriptionsTable(_resource(moto_stack["SUBSCRIPTIONS_TABLE"]))
    gone = store.get("merchant-a", "sub_gone")
    assert gone is not None and not gone.enabled
    assert _messages(moto_stack["RETRY_QUEUE_URL"]) == 1
    log = _resource(moto_stack["DELIVERIES_TABLE"]).scan()["Items"]
    assert sorted(item["subscription_id"] for item in log) == ["sub_failing", "sub_gone", "sub_ok"]
    # The merchant's other subscriptions hear of the disable through the events queue.
    assert _messages(moto_stack["EVENTS_QUEUE_URL"]) == 1
    # The same event again (an SQS redelivery): the success mark spares sub_ok a second POST,
    # and sub_gone, disabled now, holds it.
    again = fanout_app.handler(sqs_event([event.model_dump_json()]), LambdaContextStub())
    assert again == {"batchItemFailures": []}
    log = _resource(moto_stack["DELIVERIES_TABLE"]).scan()["Items"]
    assert sorted((item["subscription_id"], item["outcome"]) for item in log) == [
        ("sub_failing", "retry"),
        ("sub_failing", "retry"),
        ("sub_gone", "disable"),
        ("sub_gone", "held"),
        ("sub_ok", "delivered"),
    ]


def test_the_fanout_defers_early_retries_and_dead_letters_the_last_one(
    fanout_app: Any, moto_stack: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    early = _retry_job(attempt=2, due_at=now + timedelta(hours=1))
    assert fanout_app.handler(sqs_event([early.model_dump_json()]), LambdaContextStub()) == {
        "batchItemFailures": []
    }
    assert _messages(moto_stack["RETRY_QUEUE_URL"]) == 1
    attempts = len(parameter_default("RetrySchedule").split(",")) + 1
    last = _retry_job(attempt=attempts, due_at=now - timedelta(seconds=1))
    assert fanout_app.handler(sqs_event([last.model_dump_json()]), LambdaContextStub()) == {
        "batchItemFailures": []
    }
    assert _messages(moto_stack["DELIVERIES_DLQ_URL"]) == 1


def _post_events(body: Any) -> dict[str, Any]:
    event = api_event("POST", "/v1/events", body, role="carrier", owner_id="correios")
    response: dict[str, Any] = load_function("ingest").handler(event, LambdaContextStub())
    return response


def _forget_the_old_item(parsed: dict[str, Any], **_: Any) -> None:
    """A store that does not return the item a failed condition met (MiniStack does not)."""
    if "Error" in parsed:
        parsed.pop("Item", None)


@pytest.mark.usefixtures("moto_stack")
def test_ingest_reads_a_claim_back_when_the_store_does_not_return_it() -> None:
    first = json.loads(_post_events(carrier_event())["body"])
    client = ingest_wiring.clients.dynamodb().meta.client
    client.meta.events.register("after-call.dynamodb.PutItem", _forget_the_old_item)
    response = _post_events(carrier_event())
    assert response["statusCode"] == 202
    again = json.loads(response["body"])
    assert again["duplicates"] == 1
    assert again["events"][0]["event_id"] == first["events"][0]["event_id"]


def test_ingest_hands_back_its_claims_when_sqs_refuses_the_events(
    moto_stack: dict[str, str],
) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.delete_queue(QueueUrl=moto_stack["EVENTS_QUEUE_URL"])
    assert _post_events(carrier_event())["statusCode"] == 503
    sqs.create_queue(QueueName=moto_stack["EVENTS_QUEUE_URL"].rsplit("/", 1)[1])
    claims = EventClaimsTable(_resource(moto_stack["IDEMPOTENCY_TABLE"]), timedelta(days=1))
    held = claims.claim("correios", "ce-1", "evt_probe", datetime.now(UTC))
    assert held is not None and not held.confirmed  # kept, stale, with its event_id
    again = json.loads(_post_events(carrier_event())["body"])
    assert again["accepted"] == 1 and again["events"][0]["event_id"] == held.event_id


def test_redrive_sends_an_events_dead_letter_back_and_releases_the_rest(
    moto_stack: dict[str, str],
) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    for event_id, merchant in [("evt_mine", "merchant-a"), ("evt_other", "merchant-b")]:
        event = shipment_event(event_id=event_id, merchant_id=merchant)
        sqs.send_message(QueueUrl=moto_stack["EVENTS_DLQ_URL"], MessageBody=event.model_dump_json())
    payload = {"queue": "events", "merchant_id": "merchant-a"}
    result = load_function("redrive").handler(payload, LambdaContextStub())
    assert (result["matched"], result["moved"], result["left"]) == (1, 1, 1)
    assert _messages(moto_stack["EVENTS_QUEUE_URL"]) == 1
    assert _messages(moto_stack["EVENTS_DLQ_URL"]) == 1


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
    """The unit tests with IAM enforced, in a process per core (files dealt round-robin)."""
    if os.environ.get(LEDGER_VARIABLE):
        pytest.skip("already inside the enforced run")
    folder = tmp_path_factory.mktemp("iam")
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "unit").glob("test_*.py"))
    shards = max(1, min(os.cpu_count() or 1, 4))
    running = []
    for shard in range(shards):
        ledger = folder / f"ledger-{shard}.json"
        process = subprocess.Popen(
            [*ENFORCED_RUN, *files[shard::shards]],
            cwd=ROOT,
            env={**os.environ, LEDGER_VARIABLE: str(ledger), "COLUMNS": "200"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        running.append((process, ledger))
    returncode, output, merged = 0, "", {}
    for process, ledger in running:
        out, _ = process.communicate(timeout=900)
        # pytest exits 5 when a shard holds no test that builds the stack: that is fine.
        returncode = max(returncode, 0 if process.returncode == 5 else process.returncode)
        output += out
        for call in json.loads(ledger.read_text())["calls"] if ledger.exists() else []:
            key = tuple(call[k] for k in ("function", "action", "resource", "decision", "by"))
            merged.setdefault(key, {**call, "tests": []})["tests"] += call["tests"]
    return EnforcedRun(returncode, output, list(merged.values()))


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
        "the unit tests with IAM enforced (python -m pytest -p tests.iam tests/unit):\n"
        + enforced_run.summary()
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


def test_parliament_finds_nothing_in_any_function_policy() -> None:
    findings = lint()
    assert not findings, "parliament:\n" + "\n".join(f"  {f}" for f in findings)


# ---------------------------------------------------------------------------------------
# The template as deployed to the cloud: defaults and outputs


def test_the_parameter_defaults_are_the_cloud_ones() -> None:
    parameters = transformed()["Parameters"]
    defaults = {name: str(p.get("Default")) for name, p in parameters.items()}
    assert all("Default" in p for p in parameters.values()), "every parameter needs a default"
    assert defaults["AllowHttpTargets"] == "false"  # a local relaxation, off
    assert defaults["AllowedTargetNetworks"] == ""  # a local relaxation, off
    assert int(defaults["AuthorizerCacheTtl"]) > 0
    assert defaults["RetrySchedule"] == "5,300,1800,7200,18000,36000,36000"
    assert defaults["LogLevel"] == "INFO"
    # AWS advises six times the function's timeout for an event source's queue.
    assert int(defaults["QueueVisibilityTimeout"]) >= 6 * int(defaults["FanoutTimeoutSeconds"])


def test_the_outputs_ops_need_are_present() -> None:
    """The README's outputs, and every output the CLI looks up by name."""
    outputs = set(transformed()["Outputs"])
    documented = {"ApiUrl", "ApiKeysTableName", "EventsQueueUrl", "RetryQueueUrl"}
    documented |= {"EventsDLQUrl", "DeliveriesDLQUrl"}
    looked_up = re.findall(r'output\("(\w+)"\)|outputs\(\)\["(\w+)"\]', _cli_source())
    cli = {name for pair in looked_up for name in pair if name}
    assert documented | cli <= outputs, f"missing: {(documented | cli) - outputs}"


def _cli_source() -> str:
    return "\n".join(p.read_text() for p in (ROOT / "cli" / "parcelhooks_cli").glob("*.py"))


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
    """Why tests/iam.py authorizes calls itself: with moto 5.2.5's access control on, a role
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
