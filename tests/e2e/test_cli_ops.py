"""`parcelhooks --local send | dlq ...` against the deployed stack: a sample file reaches a
receiver; a delivery that keeps failing is dead-lettered, counted, peeked at, redriven
(dry run first) and delivered again under the same webhook-id, while another
subscription's dead letter stays where it is."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from devstack.stack import REGION, Deployment
from parcelhooks_cli.main import main
from testkit.factories import EVENTS_DIR
from testkit.receivers import ReceiverFactory
from tests.e2e.conftest import Api, subscribe, wait_for_attempts

DELIVERY_TIMEOUT_S = 30
# Four attempts on the local schedule (1, 2, 4 s) plus the fan-out's latency.
DEAD_LETTER_TIMEOUT_S = 60


@pytest.fixture
def local_config(stack: Deployment, carrier: Api, tmp_path: Path) -> Path:
    """A local.json for the test stack, as `make run` writes one."""
    config = tmp_path / "local.json"
    config.write_text(
        json.dumps(
            {
                "api_url": stack.api_url,
                "aws_endpoint_url": stack.endpoint,
                "region": REGION,
                "stack_name": stack.stack_name,
                "carrier_key": carrier.key,
            }
        )
    )
    return config


class Cli:
    def __init__(self, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self._config = config
        self._capsys = capsys

    def run(self, *args: str) -> tuple[int, str, str]:
        code = main(["--local", "--local-config", str(self._config), *args])
        captured = self._capsys.readouterr()
        return code, captured.out, captured.err

    def json(self, *args: str) -> Any:
        code, out, err = self.run(*args, "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(local_config: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(local_config, capsys)


def _eventually[T](check: Callable[[], T | None], timeout_s: float, what: str) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (found := check()) is not None:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")


def _sample_for(merchant_id: str, folder: Path) -> Path:
    """events/carrier/delivered.json for a merchant that has a key, recent, never sent."""
    event = json.loads((EVENTS_DIR / "carrier" / "delivered.json").read_text())
    event |= {
        "merchant_id": merchant_id,
        "carrier_event_id": f"cli-{uuid.uuid4().hex}",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds"),
    }
    path = folder / "delivered.json"
    path.write_text(json.dumps(event, ensure_ascii=False))
    return path


def test_send_posts_a_sample_file_that_reaches_the_receiver(
    cli: Cli, merchant: Api, receiver_factory: ReceiverFactory, tmp_path: Path
) -> None:
    receiver = receiver_factory()
    created = subscribe(merchant, receiver.url, ["shipment.delivered"])
    answer = cli.json("send", str(_sample_for(merchant.owner_id, tmp_path)))
    assert (answer["accepted"], answer["duplicates"]) == (1, 0)
    [delivery] = receiver.wait_for(1, DELIVERY_TIMEOUT_S)
    payload = Webhook(created["secret"]).verify(delivery.body, delivery.headers)
    assert delivery.headers["webhook-id"] == answer["events"][0]["event_id"]
    assert payload["data"]["merchant_id"] == merchant.owner_id

    code, out, _ = cli.run("send", str(_sample_for(merchant.owner_id, tmp_path)))
    assert code == 0 and "accepted 1, duplicates 0" in out


def test_send_shows_the_apis_refusal(cli: Cli, tmp_path: Path) -> None:
    unknown = _sample_for(f"never-had-a-key-{uuid.uuid4().hex[:6]}", tmp_path)
    code, out, err = cli.run("send", str(unknown))
    assert code == 1 and out == ""
    assert "ingest answered 400" in err and "merchant_id" in err


def _dead_letters(cli: Cli, *subscription_ids: str) -> dict[str, dict[str, Any]] | None:
    """Our subscriptions' dead letters by subscription id, once there is one for each."""
    peeked = cli.json("dlq", "peek", "-n", "100")["messages"]
    ours = {m["subscription_id"]: m for m in peeked if m["subscription_id"] in subscription_ids}
    return ours if len(ours) == len(subscription_ids) else None


def test_a_dead_lettered_delivery_is_counted_peeked_and_redriven(
    cli: Cli, carrier: Api, merchant: Api, receiver_factory: ReceiverFactory, tmp_path: Path
) -> None:
    failing = receiver_factory(statuses=[500])
    other = receiver_factory(statuses=[500])
    redriven = subscribe(merchant, failing.url, ["*"])
    stays = subscribe(merchant, other.url, ["*"])
    answer = cli.json("send", str(_sample_for(merchant.owner_id, tmp_path)))
    event_id = answer["events"][0]["event_id"]

    letters = _eventually(
        lambda: _dead_letters(cli, redriven["id"], stays["id"]),
        DEAD_LETTER_TIMEOUT_S,
        "both deliveries in DeliveriesDLQ",
    )
    letter = letters[redriven["id"]]
    assert letter["merchant_id"] == merchant.owner_id
    assert (letter["event_type"], letter["attempts"], letter["last_error"]) == (
        "shipment.delivered",
        4,
        "HTTP 500",
    )
    assert len(failing.received) == 4
    # The merchant's log says the same: the last attempt was the last.
    [last] = wait_for_attempts(merchant, redriven["id"], 1, outcome="exhausted")
    assert (last["attempt"], last["status_code"], last["next_attempt_at"]) == (4, 500, None)

    stats = cli.json("dlq", "stats")["deliveries"]
    assert stats["depth"] >= 2 and stats["visible"] >= 2
    assert stats["age_source"] == "sample" and stats["oldest_age_s"] >= 0
    code, out, _ = cli.run("dlq", "stats")
    assert code == 0 and "sampled" in out

    dry = cli.json("dlq", "redrive", "--subscription", redriven["id"], "--dry-run")
    assert (dry["matched"], dry["moved"], dry["dry_run"]) == (1, 1, True)
    assert dry["moved_ids"] == [letter["id"]]
    assert _dead_letters(cli, redriven["id"], stays["id"]) is not None  # nothing moved
    assert len(failing.received) == 4

    failing.statuses = [204]  # the receiver recovers
    moved = cli.json("dlq", "redrive", "--subscription", redriven["id"])
    assert (moved["matched"], moved["moved"], moved["moved_ids"]) == (1, 1, [letter["id"]])

    received = failing.wait_for(5, DELIVERY_TIMEOUT_S)
    again = received[4]
    assert again.headers["webhook-id"] == event_id
    payload = Webhook(redriven["secret"]).verify(again.body, again.headers)
    assert payload["data"]["event_id"] == event_id
    [redelivered] = wait_for_attempts(merchant, redriven["id"], 1, outcome="success")
    assert (redelivered["attempt"], redelivered["origin"]) == (5, "redrive")

    left = {m["subscription_id"] for m in cli.json("dlq", "peek", "-n", "100")["messages"]}
    assert stays["id"] in left and redriven["id"] not in left
    assert len(other.received) == 4
