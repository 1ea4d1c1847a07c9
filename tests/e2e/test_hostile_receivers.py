"""A hostile receiver on the deployed stack: its garbage answer is its own failed attempt.

The review's case: a status line with a 40-digit status was taken as an answer, its log
line could not be written (DynamoDB refuses such a number), and the whole message failed:
no sibling was logged, no retry scheduled, the event ended in EventsDLQ. Here one merchant
has three subscriptions, one of them that receiver.
"""

from __future__ import annotations

from typing import Any

from devstack.stack import wait_until
from testkit.receivers import raw_receiver
from tests.e2e.conftest import Api, carrier_event, subscribe

TIMEOUT_S = 30
# Locally the retry schedule is 1, 2, 4 s: the second attempt comes within seconds.
GARBAGE_STATUS = b"HTTP/1.1 " + b"9" * 40 + b" OK\r\nContent-Length: 0\r\n\r\n"


def attempts(merchant: Api, subscription_id: str) -> list[dict[str, Any]]:
    """The subscription's logged attempts, oldest first."""
    response = merchant.call("GET", f"/v1/subscriptions/{subscription_id}/deliveries")
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["data"]))


def test_a_garbage_status_line_fails_only_its_own_delivery_and_is_retried(
    carrier: Api, merchant: Api, receiver_factory: Any
) -> None:
    polite = [receiver_factory(), receiver_factory()]
    with raw_receiver([GARBAGE_STATUS]) as hostile:
        polite_ids = [subscribe(merchant, r.url, ["*"])["id"] for r in polite]
        hostile_id = subscribe(merchant, hostile.url, ["*"])["id"]
        sent = carrier.call("POST", "/v1/events", carrier_event(merchant.owner_id))
        assert sent.status_code == 202, sent.text

        for receiver in polite:
            receiver.wait_for(1, TIMEOUT_S)
        hostile.wait_for(2, TIMEOUT_S)  # the retry arrives: it was scheduled

        wait_until(
            lambda: all(attempts(merchant, sub_id) for sub_id in polite_ids),
            TIMEOUT_S,
            "the polite receivers' log lines",
        )
        for sub_id in polite_ids:
            [logged] = attempts(merchant, sub_id)
            assert (logged["outcome"], logged["status_code"]) == ("delivered", 204)
        wait_until(
            lambda: len(attempts(merchant, hostile_id)) >= 2, TIMEOUT_S, "the hostile retry's log"
        )
        first, second = attempts(merchant, hostile_id)[:2]
    for logged in (first, second):
        assert (logged["status_code"], logged["error"]) == (None, "protocol_error")
        assert "status line" in logged["response_excerpt"]
    assert (first["attempt"], first["outcome"], second["attempt"]) == (1, "retry", 2)
    assert first["next_attempt_at"] is not None
    assert [len(r.received) for r in polite] == [1, 1]  # the message was not handed back
