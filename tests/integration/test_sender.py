"""The delivery HTTP path where it takes real time: a receiver that never answers in time.

The fast socket-level sender tests are in tests/unit/test_sender.py (loopback only).
"""

from __future__ import annotations

import time

from parcelhooks.delivery.http.sender import WebhookRequest
from tests.receivers import Receiver
from tests.unit.test_sender import local_sender, send_in_turn


def test_a_hanging_receiver_times_out_within_the_total_timeout(receiver_factory) -> None:
    receiver: Receiver = receiver_factory(hang_s=5)
    started = time.monotonic()
    [result] = send_in_turn(local_sender(total_s=0.5), WebhookRequest(receiver.url, {}, b"{}"))
    assert result.error == "timeout" and result.status_code is None
    assert time.monotonic() - started < 2
