"""The adapters' own logic against stand-ins for their clients: what the events queue does
with entries SQS refuses. tests/component/test_aws_adapters.py runs the adapters on moto."""

import json
from typing import Any

import pytest

from parcelhooks.aws import queues
from parcelhooks.aws.queues import EventsQueue
from testkit.factories import shipment_event


@pytest.fixture(autouse=True)
def _no_pause_between_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pause gives SQS time to recover; a stand-in needs none."""
    monkeypatch.setattr(queues, "ROUND_PAUSE_S", 0.0)


class FlakySqs:
    """Refuses the second entry of every batch once, then accepts everything."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.refused = False

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:  # noqa: N803
        failed = []
        for entry in Entries:
            if not self.refused and entry["Id"] == "1":
                self.refused = True
                failed.append({"Id": "1", "SenderFault": False, "Code": "InternalError"})
            else:
                self.sent.append(json.loads(entry["MessageBody"])["event_id"])
        return {"Successful": [], "Failed": failed}


def test_entries_sqs_refuses_are_sent_again() -> None:
    sqs = FlakySqs()
    events = [shipment_event(event_id=f"evt_{i}") for i in range(3)]
    assert EventsQueue(sqs, "url").publish(events) == []  # type: ignore[arg-type]
    assert sorted(sqs.sent) == ["evt_0", "evt_1", "evt_2"]


class DownSqs:
    def send_message_batch(self, **_: Any) -> dict[str, Any]:
        raise ConnectionError("SQS unreachable")


def test_events_that_never_get_through_are_returned_as_failed() -> None:
    events = [shipment_event(event_id="evt_0")]
    assert EventsQueue(DownSqs(), "url").publish(events) == ["evt_0"]  # type: ignore[arg-type]


class SqsThatLosesItsFirstAnswer:
    """Queues every entry, but the first call's answer never arrives (a read timeout)."""

    def __init__(self, refuse: str | None = None) -> None:
        self.queued: list[tuple[str, bool]] = []
        self.calls = 0
        self.refuse = refuse

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.calls += 1
        failed = []
        for entry in Entries:
            event_id = json.loads(entry["MessageBody"])["event_id"]
            if event_id == self.refuse and self.calls == 1:
                failed.append({"Id": entry["Id"], "SenderFault": False, "Code": "InternalError"})
                continue
            marked = queues.FIRST_QUEUED in entry.get("MessageAttributes", {})
            self.queued.append((event_id, marked))
        if self.calls == 1 and self.refuse is None:
            raise TimeoutError("read timed out")
        return {"Successful": [], "Failed": failed}


def test_a_message_sent_again_after_a_lost_answer_loses_its_first_queued_mark() -> None:
    """Two marked copies would each skip the delivery log and both be POSTed: the copy sent
    again is unmarked, so the fan-out asks the log before sending either."""
    sqs = SqsThatLosesItsFirstAnswer()
    events = [shipment_event(event_id=f"evt_{i}") for i in range(2)]
    assert EventsQueue(sqs, "url").publish(events, first_queued={"evt_0"}) == []  # type: ignore[arg-type]
    assert sqs.queued == [("evt_0", True), ("evt_1", False), ("evt_0", False), ("evt_1", False)]


def test_a_message_sqs_refused_keeps_its_mark_when_sent_again() -> None:
    """A refusal is an answer: no copy was queued, so the one sent again is still the first."""
    sqs = SqsThatLosesItsFirstAnswer(refuse="evt_0")
    events = [shipment_event(event_id=f"evt_{i}") for i in range(2)]
    assert EventsQueue(sqs, "url").publish(events, first_queued={"evt_0", "evt_1"}) == []  # type: ignore[arg-type]
    assert sqs.queued == [("evt_1", True), ("evt_0", True)]
