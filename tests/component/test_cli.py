"""The `parcelhooks` command: options anywhere, --json shapes, the DLQ commands against moto
(the RedriveFunction's real handler behind a fake `lambda invoke`), `send` against a
loopback receiver, and the errors people meet: no stack, wrong stack, no credentials."""

from __future__ import annotations

import io
import json
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from devstack.stack import free_port
from devstack.template import FUNCTIONS, resources, template
from parcelhooks.core.deliveries import DeadLetter, DeliveryJob
from parcelhooks_cli import commands, dlq
from parcelhooks_cli.listen import _Receiver
from parcelhooks_cli.main import main
from parcelhooks_cli.send import CARRIER_KEY_ENV
from parcelhooks_cli.target import Target
from testkit.factories import (
    EVENTS_DIR,
    NOW,
    LambdaContextStub,
    api_event,
    load_function,
    shipment_event,
)
from testkit.factories import subscription as a_subscription
from testkit.receivers import Receiver, serving

REGION = "us-east-1"


# --- the stack the CLI finds: moto's tables and queues, outputs named as template.yaml's ---


def _physical_names() -> dict[str, str]:
    sqs = boto3.client("sqs", region_name=REGION)
    physical = {name: name for name in resources("AWS::DynamoDB::Table")}
    physical |= {name: name for name in FUNCTIONS}
    for name in resources("AWS::SQS::Queue"):
        physical[name] = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return physical


def _template_outputs(physical: dict[str, str]) -> dict[str, str]:
    """template.yaml's outputs that are a `!Ref` to a resource moto has, with moto's values."""
    outputs = {}
    for name, output in template()["Outputs"].items():
        value = output["Value"]
        if getattr(value, "tag", None) == "Ref" and value.value in physical:
            outputs[name] = physical[value.value]
    return outputs


@pytest.fixture
def outputs(moto_stack: dict[str, str]) -> dict[str, str]:
    """A CloudFormation stack `parcelhooks` in moto whose outputs point at the moto stack."""
    found = _template_outputs(_physical_names())
    body = {
        # moto wants one resource; the outputs are what the CLI reads.
        "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {name: {"Value": value} for name, value in found.items()},
    }
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName="parcelhooks", TemplateBody=json.dumps(body))
    return found


class FakeLambda:
    """`lambda invoke` of the RedriveFunction: its real handler, in process, against moto."""

    def __init__(self, handler: ModuleType) -> None:
        self._handler = handler
        self.payloads: list[dict[str, Any]] = []
        self.crash: str | None = None

    def invoke(self, **call: Any) -> dict[str, Any]:
        assert (call["FunctionName"], call["InvocationType"]) == (
            "RedriveFunction",
            "RequestResponse",
        )
        payload = json.loads(call["Payload"])
        self.payloads.append(payload)
        if self.crash:
            answer = {"errorType": "RuntimeError", "errorMessage": self.crash}
            return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": _stream(answer)}
        answer = self._handler.handler(payload, LambdaContextStub())
        return {"StatusCode": 200, "Payload": _stream(answer)}


def _stream(answer: object) -> io.BytesIO:
    return io.BytesIO(json.dumps(answer).encode())


@pytest.fixture
def fake_lambda(outputs: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> FakeLambda:
    fake = FakeLambda(load_function("redrive"))
    real_client = Target.client

    def client(self: Target, service: str, config: Any = None) -> Any:
        return fake if service == "lambda" else real_client(self, service, config)

    monkeypatch.setattr(Target, "client", client)
    return fake


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = _run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)  # stdout holds JSON and nothing else


# --- dead letters in moto -------------------------------------------------------------------


def _dead_letter(n: int, subscription_id: str = "sub_1", merchant_id: str = "merchant-a") -> str:
    return DeadLetter(
        delivery_id=f"dlv_{n}",
        event=shipment_event(event_id=f"evt_{n}", merchant_id=merchant_id),
        subscription_id=subscription_id,
        merchant_id=merchant_id,
        attempts=4,
        last_status=500,
        last_error=None,
        first_attempt_at=NOW,
        last_attempt_at=NOW,
    ).model_dump_json()


def _send(url: str, bodies: list[str]) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    for start in range(0, len(bodies), 10):
        entries = [
            {"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start : start + 10])
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def _visible(url: str) -> int:
    got = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(got["Attributes"]["ApproximateNumberOfMessages"])


def _subscriptions(*ids_enabled: tuple[str, bool]) -> None:
    table = boto3.resource("dynamodb", region_name=REGION).Table("SubscriptionsTable")
    for sub_id, enabled in ids_enabled:
        item = a_subscription(id=sub_id, enabled=enabled).model_dump(
            mode="json", exclude={"id"}, exclude_none=True
        )
        table.put_item(Item={**item, "subscription_id": sub_id})


# --- options --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--json", "--stack", "parcelhooks", "keys", "list"],
        ["keys", "list", "--json", "--stack", "parcelhooks"],
        ["keys", "--json", "list", "--stack", "parcelhooks"],
        ["--stack", "parcelhooks", "keys", "list", "--json"],
    ],
)
def test_global_options_are_taken_before_and_after_the_command(
    outputs: dict[str, str], capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, _ = _run(capsys, *argv)
    assert code == 0
    owners = {key["owner_id"] for key in json.loads(out)}
    assert owners == {"merchant-a", "merchant-b", "demo-merchant"}


def test_a_subcommands_default_does_not_undo_an_option_given_before_it(
    outputs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "--stack", "nope", "dlq", "stats")
    assert code == 2 and "nope does not exist" in err


# --- keys ------------------------------------------------------------------------------------


def test_keys_list_json_has_ids_roles_owners_and_state_never_a_key(
    outputs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "keys", "create", "--role", "carrier", "--owner", "c-1", "--json")
    assert code == 0
    created = json.loads(out)
    assert created["key"].startswith("phk_") and created["role"] == "carrier"
    listed = _json(capsys, "keys", "list")
    mine = next(key for key in listed if key["key_id"] == created["key_id"])
    assert mine == {
        "key_id": created["key_id"],
        "role": "carrier",
        "owner_id": "c-1",
        "created_at": mine["created_at"],
        "description": None,
        "revoked_at": None,
        "merchants": None,
        "vocabulary": "canonical",  # a new carrier key's default
        "active": True,
    }
    assert all("key" not in key and "key_hash" not in key for key in listed)
    assert _json(capsys, "keys", "revoke", created["key_id"]) == {"revoked": created["key_id"]}
    code, out, _ = _run(capsys, "keys", "list")
    assert code == 0 and created["key_id"] in out and "revoked" in out


def test_a_carrier_keys_vocabulary_is_set_at_creation_and_migrated_explicitly(
    outputs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    created = _json(
        capsys, "keys", "create", "--role", "carrier", "--owner", "c-2", "--vocabulary", "correios"
    )
    assert created["vocabulary"] == "correios"
    moved = _json(capsys, "keys", "set-vocabulary", created["key_id"], "canonical")
    assert moved == {"key_id": created["key_id"], "vocabulary": "canonical", "was": "correios"}
    listed = _json(capsys, "keys", "list")
    assert next(k for k in listed if k["key_id"] == created["key_id"])["vocabulary"] == "canonical"
    merchant = _json(capsys, "keys", "create", "--role", "merchant", "--owner", "shop-2")
    code, _, err = _run(capsys, "keys", "set-vocabulary", merchant["key_id"], "correios")
    assert code == 1 and f"no carrier key {merchant['key_id']}" in err
    code, _, err = _run(
        capsys, "keys", "create", "--role", "merchant", "--owner", "s", "--vocabulary", "correios"
    )
    assert code == 2 and "--vocabulary is a carrier key's" in err


def test_revoking_an_unknown_key_fails_with_exit_1(
    outputs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "keys", "revoke", "key_unknown")
    assert code == 1 and "no key key_unknown" in err


def test_portal_link_prints_a_one_time_link_that_signs_the_merchant_in(
    outputs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    api = "https://api.example.com/prod"
    made = _json(
        capsys, "portal-link", "--merchant", "merchant-a", "--ttl", "30m", "--api-url", api
    )
    assert made["url"].startswith(f"{api}/portal/#link=phl_")
    token = made["url"].split("#link=", 1)[1]
    admin = load_function("admin")
    for expected in (201, 401):  # once only
        event = api_event("POST", "/portal/session", {"link": token})
        assert admin.handler(event, LambdaContextStub())["statusCode"] == expected
    code, _, err = _run(capsys, "portal-link", "--merchant", "m", "--ttl", "2d", "--api-url", api)
    assert code == 2 and "1 minute to 1 day" in err


# --- dlq stats --------------------------------------------------------------------------------


class _AnHourLater(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> _AnHourLater:  # type: ignore[override]
        moment = datetime.now(tz) + timedelta(hours=1)
        return cls.fromtimestamp(moment.timestamp(), tz)


def test_dlq_stats_counts_depth_and_ages_by_a_sample_it_puts_back(
    outputs: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    deliveries_dlq = outputs["DeliveriesDLQUrl"]
    _send(deliveries_dlq, [_dead_letter(n) for n in range(3)])
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.receive_message(QueueUrl=deliveries_dlq, MaxNumberOfMessages=1, VisibilityTimeout=300)
    monkeypatch.setattr(commands, "datetime", _AnHourLater)

    stats = _json(capsys, "dlq", "stats")

    deliveries = stats["deliveries"]
    assert (deliveries["visible"], deliveries["in_flight"], deliveries["depth"]) == (2, 1, 3)
    assert deliveries["age_source"] == "sample" and deliveries["sampled"] == 2
    assert 3600 <= deliveries["oldest_age_s"] < 3700
    assert stats["events"] == {
        "queue": "events",
        "url": outputs["EventsDLQUrl"],
        "visible": 0,
        "in_flight": 0,
        "depth": 0,
        "oldest_age_s": None,
        "age_source": None,
        "sampled": 0,
    }
    assert _visible(deliveries_dlq) == 2  # the sample was made visible again at once


def test_dlq_stats_on_aws_takes_the_age_from_cloudwatch_when_it_has_it(
    outputs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _send(outputs["DeliveriesDLQUrl"], [_dead_letter(1)])
    _send(outputs["EventsDLQUrl"], [shipment_event().model_dump_json()])
    boto3.client("cloudwatch", region_name=REGION).put_metric_data(
        Namespace="AWS/SQS",
        MetricData=[
            {
                "MetricName": "ApproximateAgeOfOldestMessage",
                "Dimensions": [{"Name": "QueueName", "Value": "DeliveriesDLQ"}],
                "Value": 7200,
                "Timestamp": datetime.now(UTC) - timedelta(minutes=2),
            }
        ],
    )
    stats = _json(capsys, "dlq", "stats")
    assert (stats["deliveries"]["age_source"], stats["deliveries"]["oldest_age_s"]) == (
        "cloudwatch",
        7200,
    )
    assert stats["events"]["age_source"] == "sample"  # no datapoint for it: sampled

    code, out, _ = _run(capsys, "dlq", "stats")
    assert code == 0
    assert "2h 0m" in out and "CloudWatch ApproximateAgeOfOldestMessage" in out
    assert "oldest SentTimestamp of 1 sampled" in out


# --- dlq peek ---------------------------------------------------------------------------------


def test_dlq_peek_summarizes_dead_letters_and_leaves_them_in_place(
    outputs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    dlq_url = outputs["DeliveriesDLQUrl"]
    _send(dlq_url, [_dead_letter(1, "sub_1"), "not json"])

    peeked = _json(capsys, "dlq", "peek", "-n", "5")

    assert peeked["queue"] == "deliveries"
    by_id = {letter["id"]: letter for letter in peeked["messages"]}
    assert by_id["dlv_1"] == {
        "id": "dlv_1",
        "merchant_id": "merchant-a",
        "subscription_id": "sub_1",
        "event_type": "shipment.delivered",
        "tracking_code": "QB123456785BR",
        "attempts": 4,
        "last_error": "HTTP 500",
        "dead_lettered_at": NOW.isoformat(),
    }
    assert by_id[None]["last_error"] == "unreadable: 'not json'"
    assert _visible(dlq_url) == 2  # released at once, not after a visibility timeout

    code, out, _ = _run(capsys, "dlq", "peek")
    assert code == 0
    shown = ("dlv_1", "merchant-a", "sub_1", "shipment.delivered", "QB123456785BR", "HTTP 500")
    assert all(value in out for value in shown)
    assert "2 shown, all left in place" in out
    assert _visible(dlq_url) == 2


def test_dlq_peek_reads_poison_events_and_retries_on_the_events_dlq(
    outputs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    retry = DeliveryJob(
        delivery_id="dlv_9",
        event=shipment_event(event_id="evt_9"),
        subscription_id="sub_9",
        merchant_id="merchant-a",
        attempt=3,
        due_at=NOW,
        first_attempt_at=NOW,
        last_attempt_at=NOW,
        last_error="timeout",
    )
    _send(outputs["EventsDLQUrl"], [shipment_event().model_dump_json(), retry.model_dump_json()])
    peeked = _json(capsys, "dlq", "peek", "--queue", "events")
    by_id = {letter["id"]: letter for letter in peeked["messages"]}
    assert (by_id["evt_01TEST"]["subscription_id"], by_id["evt_01TEST"]["attempts"]) == (None, None)
    assert (by_id["dlv_9"]["subscription_id"], by_id["dlv_9"]["attempts"]) == ("sub_9", 2)
    assert by_id["dlv_9"]["last_error"] == "timeout"


def test_dlq_peek_says_so_when_the_dlq_is_empty(
    outputs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "dlq", "peek")
    assert code == 0 and "nothing visible in the deliveries DLQ" in out
    assert _json(capsys, "dlq", "peek") == {"queue": "deliveries", "messages": []}


# --- dlq redrive ------------------------------------------------------------------------------


def test_redrive_invokes_in_chunks_and_adds_the_results_up(
    outputs: dict[str, str], fake_lambda: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    _subscriptions(("sub_1", True), ("sub_2", True))
    dlq_url = outputs["DeliveriesDLQUrl"]
    _send(dlq_url, [_dead_letter(n, "sub_1") for n in range(120)])
    _send(dlq_url, [_dead_letter(n, "sub_2") for n in range(200, 205)])

    summary = _json(capsys, "dlq", "redrive", "--subscription", "sub_1")

    assert (
        fake_lambda.payloads
        == [{"queue": "deliveries", "max_messages": 50, "subscription_id": "sub_1"}] * 3
    )
    assert (summary["matched"], summary["moved"], summary["skipped"]) == (120, 120, 0)
    assert (summary["invocations"], summary["left"], summary["dry_run"]) == (3, 5, False)
    assert sorted(summary["moved_ids"]) == sorted(f"dlv_{n}" for n in range(120))
    assert _visible(dlq_url) == 5  # sub_2's letters stay
    assert _visible(outputs["RetryQueueUrl"]) == 120


def test_redrive_stops_when_a_chunk_matches_nothing(
    outputs: dict[str, str], fake_lambda: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    _subscriptions(("sub_1", True))
    _send(outputs["DeliveriesDLQUrl"], [_dead_letter(n) for n in range(50)])
    summary = _json(capsys, "dlq", "redrive", "--max", "100")
    assert [p["max_messages"] for p in fake_lambda.payloads] == [50, 50]
    assert (summary["matched"], summary["moved"], summary["invocations"]) == (50, 50, 2)


def test_redrive_stops_at_max(
    outputs: dict[str, str], fake_lambda: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    _subscriptions(("sub_1", True))
    _send(outputs["DeliveriesDLQUrl"], [_dead_letter(n) for n in range(120)])
    summary = _json(capsys, "dlq", "redrive", "--max", "70", "--merchant", "merchant-a")
    assert fake_lambda.payloads == [
        {"queue": "deliveries", "max_messages": 50, "merchant_id": "merchant-a"},
        {"queue": "deliveries", "max_messages": 20, "merchant_id": "merchant-a"},
    ]
    assert (summary["moved"], _visible(outputs["DeliveriesDLQUrl"])) == (70, 50)


def test_a_dry_run_is_one_invocation_and_moves_nothing(
    outputs: dict[str, str], fake_lambda: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    _subscriptions(("sub_1", True))
    _send(outputs["DeliveriesDLQUrl"], [_dead_letter(n) for n in range(60)])
    since = "2026-01-01T00:00:00+00:00"
    summary = _json(
        capsys, "dlq", "redrive", "--dry-run", "--max", "500", "--type", "shipment.delivered",
        "--since", since,
    )  # fmt: skip
    assert fake_lambda.payloads == [
        {
            "queue": "deliveries",
            "max_messages": 500,
            "event_type": "shipment.delivered",
            "since": since,
            "dry_run": True,
        }
    ]
    assert (summary["matched"], summary["moved"], summary["dry_run"]) == (60, 60, True)
    assert _visible(outputs["DeliveriesDLQUrl"]) == 60
    assert _visible(outputs["RetryQueueUrl"]) == 0


def test_redrive_counts_a_skipped_letter_once_though_every_chunk_sees_it(
    outputs: dict[str, str],
    fake_lambda: FakeLambda,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dlq, "REDRIVE_CHUNK", 2)
    _subscriptions(("sub_1", True), ("sub_off", False))
    _send(outputs["DeliveriesDLQUrl"], [_dead_letter(n) for n in range(5)])
    _send(outputs["DeliveriesDLQUrl"], [_dead_letter(9, "sub_off")])
    summary = _json(capsys, "dlq", "redrive")
    assert (summary["matched"], summary["moved"], summary["skipped"]) == (6, 5, 1)
    assert summary["skipped_ids"] == ["dlv_9"]
    assert summary["left"] == 1 and summary["invocations"] >= 3


def test_redrive_of_the_events_dlq_puts_poison_events_back_on_the_events_queue(
    outputs: dict[str, str], fake_lambda: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    events = [shipment_event(event_id=f"evt_{n}", merchant_id="merchant-a") for n in range(3)]
    other = shipment_event(event_id="evt_b", merchant_id="merchant-b")
    _send(outputs["EventsDLQUrl"], [e.model_dump_json() for e in [*events, other]])
    summary = _json(capsys, "dlq", "redrive", "--queue", "events", "--merchant", "merchant-a")
    assert fake_lambda.payloads[0]["queue"] == "events"
    assert sorted(summary["moved_ids"]) == ["evt_0", "evt_1", "evt_2"]
    assert _visible(outputs["EventsQueueUrl"]) == 3
    assert _visible(outputs["EventsDLQUrl"]) == 1


def test_redrive_shows_progress_and_a_summary(
    outputs: dict[str, str], fake_lambda: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    _subscriptions(("sub_1", True), ("sub_off", False))
    _send(outputs["DeliveriesDLQUrl"], [_dead_letter(1), _dead_letter(2, "sub_off")])
    code, out, err = _run(capsys, "dlq", "redrive")
    assert code == 0
    assert "redriving deliveries DLQ" in err and "2/2" in err  # the progress bar, on stderr
    assert "deliveries DLQ: 2 matched, moved 1, skipped 1, 1 left in the DLQ (1 invocation)" in out
    assert "skipped (subscription disabled or deleted): dlv_2" in out


def test_a_payload_the_function_refuses_is_a_clear_error(
    outputs: dict[str, str], fake_lambda: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "dlq", "redrive", "--merchant", "a|b")
    assert code == 1 and out == ""
    assert "parcelhooks: bad payload" in err and "  - merchant_id: String should match" in err
    assert "Traceback" not in err
    code, out, _ = _run(capsys, "dlq", "redrive", "--merchant", "a|b", "--json")
    assert code == 1
    assert json.loads(out)["error"]["code"] == "validation_failed"


def test_a_crash_in_the_function_is_a_clear_error(
    outputs: dict[str, str], fake_lambda: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_lambda.crash = "boom"
    code, _, err = _run(capsys, "dlq", "redrive")
    assert code == 1
    assert "RedriveFunction failed: RuntimeError: boom" in err


def test_a_dry_run_over_one_invocations_limit_is_refused_before_invoking(
    outputs: dict[str, str], fake_lambda: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "dlq", "redrive", "--dry-run", "--max", "5000")
    assert code == 2 and "a dry run looks at 1000 messages at most" in err
    assert fake_lambda.payloads == []


# --- send -------------------------------------------------------------------------------------

ACCEPTED = {
    "accepted": 1,
    "duplicates": 0,
    "events": [{"carrier_event_id": "SRO-1", "event_id": "evt_1", "duplicate": False}],
}


@pytest.fixture
def ingest() -> Iterator[Receiver]:
    """A stand-in for the ingest API on 127.0.0.1; tests set its answer."""
    receiver = Receiver(
        statuses=[202],
        response_body=json.dumps(ACCEPTED).encode(),
        response_headers={"content-type": "application/json"},
    )
    with serving(receiver) as running:
        running.url = running.url.removesuffix("/webhooks")
        yield running


def test_send_posts_a_file_without_relative_times_as_is_with_the_carrier_key(
    ingest: Receiver, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sample = tmp_path / "delivered.json"
    sample.write_text('{"occurred_at":  "2026-11-28T11:42:00-03:00", "metadata": {"n": 1.10}}')
    answer = _json(capsys, "send", str(sample), "--api-url", ingest.url, "--key", "phk_test")
    assert answer == ACCEPTED
    [request] = ingest.received
    assert request.path == "/v1/events"
    assert request.headers["authorization"] == "Bearer phk_test"
    assert request.body == sample.read_bytes()

    code, out, _ = _run(capsys, "send", str(sample), "--api-url", ingest.url, "--key", "k")
    assert code == 0 and "accepted 1, duplicates 0" in out and "evt_1" in out


def test_send_stamps_a_samples_relative_times_at_the_time_of_sending(
    ingest: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = EVENTS_DIR / "carrier" / "out_for_delivery.json"  # "occurred_at": "now-4h"
    before = datetime.now(UTC).replace(microsecond=0)
    _json(capsys, "send", str(sample), "--api-url", ingest.url, "--key", "k")
    after = datetime.now(UTC)
    [request] = ingest.received
    sent = json.loads(request.body)
    occurred_at = datetime.fromisoformat(sent.pop("occurred_at"))
    assert before - timedelta(hours=4) <= occurred_at <= after - timedelta(hours=4)
    assert sent == {k: v for k, v in json.loads(sample.read_bytes()).items() if k != "occurred_at"}


def test_send_takes_the_key_from_the_environment_or_local_json(
    ingest: Receiver,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    sample = str(EVENTS_DIR / "carrier" / "posted.json")
    monkeypatch.setenv(CARRIER_KEY_ENV, "phk_from_env")
    _json(capsys, "send", sample, "--api-url", ingest.url)
    monkeypatch.delenv(CARRIER_KEY_ENV)
    config = tmp_path / "local.json"
    config.write_text(
        json.dumps(
            {
                "aws_endpoint_url": "http://127.0.0.1:1",
                "region": REGION,
                "stack_name": "parcelhooks-local",
                "api_url": ingest.url,
                "carrier_key": "phk_from_local_json",
            }
        )
    )
    _json(capsys, "--local", "--local-config", str(config), "send", sample)
    keys = [request.headers["authorization"] for request in ingest.received]
    assert keys == ["Bearer phk_from_env", "Bearer phk_from_local_json"]


def test_a_400_from_send_shows_the_message_and_details_and_exits_1(
    ingest: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    refusal = {
        "error": {
            "code": "validation_failed",
            "message": "the request is not valid",
            "details": [{"loc": "events.0.status", "message": "unknown status", "type": "enum"}],
        }
    }
    ingest.statuses = [400]
    ingest.response_body = json.dumps(refusal).encode()
    sample = str(EVENTS_DIR / "carrier" / "delivered.json")

    code, out, err = _run(capsys, "send", sample, "--api-url", ingest.url, "--key", "k")
    assert code == 1 and out == ""
    assert "parcelhooks: ingest answered 400: the request is not valid" in err
    assert "  - events.0.status: unknown status" in err

    code, out, _ = _run(capsys, "send", sample, "--api-url", ingest.url, "--key", "k", "--json")
    assert code == 1 and json.loads(out) == refusal


# --- when the stack cannot be reached or found -------------------------------------------------


def _local_json(tmp_path: Path, port: int) -> Path:
    config = tmp_path / "local.json"
    config.write_text(
        json.dumps(
            {
                "aws_endpoint_url": f"http://127.0.0.1:{port}",
                "api_url": f"http://127.0.0.1:{port}/restapis/x/prod/_user_request_",
                "region": REGION,
                "stack_name": "parcelhooks-local",
                "carrier_key": "phk_local",
            }
        )
    )
    return config


@pytest.mark.parametrize(
    "command",
    [["dlq", "stats"], ["keys", "list"], ["send", str(EVENTS_DIR / "carrier" / "posted.json")]],
    ids=["dlq stats", "keys list", "send"],
)
def test_a_local_stack_that_is_not_up_is_said_plainly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    config = _local_json(tmp_path, free_port())  # nothing listens there
    code, out, err = _run(capsys, *command, "--local", "--local-config", str(config))
    assert code == 2 and out == ""
    assert "is the local stack up? Start it with `make run`" in err
    assert "Traceback" not in err
    code, out, _ = _run(capsys, "--json", "--local", "--local-config", str(config), *command)
    assert code == 2 and json.loads(out)["error"]["code"] == "stack_not_up"


def test_an_unknown_stack_is_said_plainly(
    outputs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "dlq", "peek", "--stack", "parcelhooks-typo")
    assert code == 2 and out == ""
    assert "Stack with id parcelhooks-typo does not exist" in err and "check --stack" in err
    code, out, _ = _run(capsys, "dlq", "peek", "--stack", "parcelhooks-typo", "--json")
    assert json.loads(out)["error"]["code"] == "stack_not_found"


@pytest.fixture
def no_aws_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)


@pytest.mark.usefixtures("no_aws_config")
def test_missing_credentials_are_said_plainly(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "dlq", "stats")
    assert code == 2 and out == ""
    assert "no AWS credentials" in err and "--local" in err


@pytest.mark.usefixtures("no_aws_config")
def test_a_missing_region_is_said_plainly(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION")
    code, out, err = _run(capsys, "keys", "list", "--json")
    assert code == 2
    assert json.loads(out)["error"]["code"] == "no_region"
    assert "no AWS region: set AWS_DEFAULT_REGION" in err


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_listen_receives_a_destinations_method_and_prints_it_in_one_write(method: str) -> None:
    # `make run`'s open receiver: destinations a merchant makes may PUT or PATCH (an ERP).
    out = io.StringIO()
    writes: list[str] = []
    out.write = lambda text: writes.append(text) or len(text)  # type: ignore[method-assign]
    server = _Receiver(("127.0.0.1", 0), None, 204, out)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.server_address[1]}/pedidos/A-1",
            data=b'{"situacao": 9}',
            method=method,
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 204
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    [printed] = writes
    assert "answered 204" in printed and '{"situacao": 9}' in printed
