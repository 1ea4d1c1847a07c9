"""The chaos run's ledger: what the receivers saw reconciled with what was expected, and the
signature check it relies on. The receivers themselves: tests/component/test_chaos_receivers.py."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from chaos.ledger import (
    Category,
    DeadLetter,
    Expected,
    Inputs,
    Ledger,
    Mismatch,
    MismatchKind,
    Observation,
    Pair,
    UnverifiableReason,
    observe,
    reconcile,
    render,
)
from chaos.signatures import verify
from parcelhooks.delivery.signing import webhook_headers

NOW = 1_800_000_000
SECRETS = {
    "sub_a": "whsec_" + base64.b64encode(bytes(range(24))).decode(),
    "sub_b": "whsec_" + base64.b64encode(bytes(range(24, 48))).decode(),
}
STRANGER = "whsec_" + base64.b64encode(b"not the subscription's!!").decode()


def body_of(event_id: str, status: str = "delivered") -> bytes:
    document = {"type": f"shipment.{status}", "data": {"event_id": event_id, "status": status}}
    return json.dumps(document, separators=(",", ":")).encode()


def seen(
    event_id: str,
    subscription_id: str,
    *,
    body: bytes | None = None,
    webhook_id: str | None = None,
    secret: str | None = None,
) -> Observation:
    """A request as the subscription's receiver would record it, signed by the project."""
    payload = body_of(event_id) if body is None else body
    signer = SECRETS[subscription_id] if secret is None else secret
    headers = webhook_headers([signer], webhook_id or event_id, NOW, payload)
    return observe(subscription_id, headers, payload, [SECRETS[subscription_id]], NOW)


def expect(*pairs: tuple[str, str]) -> list[Expected]:
    return [Expected(event_id, subscription_id) for event_id, subscription_id in pairs]


def ledger_of(expected: list[Expected], *observations: Observation) -> Ledger:
    return reconcile(Inputs(expected=expected, observations=list(observations)))


PAIRS = (("evt_1", "sub_a"), ("evt_1", "sub_b"), ("evt_2", "sub_a"))


def test_all_delivered_is_ok() -> None:
    ledger = ledger_of(expect(*PAIRS), *(seen(e, s) for e, s in PAIRS))
    assert ledger.ok
    assert ledger.counts[Category.DELIVERED] == 3
    assert ledger.duplicates == {} and ledger.missing == ()
    assert "ok: yes" in render(ledger)


def test_a_lost_pair_is_missing() -> None:
    ledger = ledger_of(expect(*PAIRS), seen("evt_1", "sub_a"), seen("evt_2", "sub_a"))
    assert not ledger.ok
    assert ledger.missing == (Pair("evt_1", "sub_b"),)
    assert ledger.counts[Category.MISSING] == 1
    assert "missing evt_1 -> sub_b" in render(ledger)


def test_an_identical_duplicate_is_counted_and_ok() -> None:
    ledger = ledger_of(expect(*PAIRS), *(seen(e, s) for e, s in PAIRS), seen("evt_1", "sub_b"))
    assert ledger.ok
    assert ledger.duplicates == {Pair("evt_1", "sub_b"): 2}
    assert ledger.extra_copies == 1
    assert ledger.counts[Category.DELIVERED] == 3


def test_a_duplicate_under_another_webhook_id_fails() -> None:
    renamed = seen("evt_2", "sub_a", webhook_id="evt_2-again")
    ledger = ledger_of(expect(*PAIRS), *(seen(e, s) for e, s in PAIRS), renamed)
    assert not ledger.ok
    assert ledger.mismatches == (Mismatch(Pair("evt_2", "sub_a"), MismatchKind.WEBHOOK_ID),)
    assert ledger.unverifiable == ()
    assert "duplicate_mismatch(webhook_id) evt_2 -> sub_a" in render(ledger)


def test_a_duplicate_with_another_body_fails() -> None:
    changed = seen("evt_2", "sub_a", body=body_of("evt_2", status="posted"))
    ledger = ledger_of(expect(*PAIRS), *(seen(e, s) for e, s in PAIRS), changed)
    assert not ledger.ok
    assert ledger.mismatches == (Mismatch(Pair("evt_2", "sub_a"), MismatchKind.BODY),)


def test_a_body_other_than_the_expected_one_fails() -> None:
    expected = [Expected("evt_1", "sub_a", body_of("evt_1", status="posted"))]
    ledger = ledger_of(expected, seen("evt_1", "sub_a"))
    assert not ledger.ok
    assert ledger.mismatches == (Mismatch(Pair("evt_1", "sub_a"), MismatchKind.EXPECTED_BODY),)


def test_a_bad_signature_proves_nothing_and_fails() -> None:
    forged = seen("evt_1", "sub_a", secret=STRANGER)
    ledger = ledger_of(expect(("evt_1", "sub_a")), forged)
    assert not forged.verified
    assert not ledger.ok
    assert [u.reason for u in ledger.unverifiable] == [UnverifiableReason.BAD_SIGNATURE]
    assert ledger.missing == (Pair("evt_1", "sub_a"),)


def test_a_webhook_id_of_no_expected_pair_fails() -> None:
    stray = seen("evt_9", "sub_a")
    ledger = ledger_of(expect(*PAIRS), *(seen(e, s) for e, s in PAIRS), stray)
    assert stray.verified
    assert not ledger.ok
    assert [u.reason for u in ledger.unverifiable] == [UnverifiableReason.NO_SUCH_PAIR]
    assert "unverifiable(no_such_pair) webhook-id='evt_9' at sub_a" in render(ledger)


def test_dead_lettered_held_and_scheduled_pairs_are_accounted_for() -> None:
    pairs = [("evt_1", "sub_a"), ("evt_2", "sub_a"), ("evt_3", "sub_a"), ("evt_1", "sub_b")]
    ledger = reconcile(
        Inputs(
            expected=expect(*pairs),
            dead_letters=[DeadLetter("evt_1", "sub_a")],
            held={Pair("evt_2", "sub_a")},
            scheduled={Pair("evt_3", "sub_a")},
            disabled_subscriptions={"sub_b"},
        )
    )
    assert ledger.ok
    assert dict(ledger.counts) == {
        Category.DELIVERED: 0,
        Category.DEAD_LETTERED: 1,
        Category.HELD: 2,
        Category.SCHEDULED: 1,
        Category.MISSING: 0,
    }


def test_delivered_and_dead_lettered_counts_once_as_delivered() -> None:
    ledger = reconcile(
        Inputs(
            expected=expect(("evt_1", "sub_a")),
            observations=[seen("evt_1", "sub_a")],
            dead_letters=[DeadLetter("evt_1", "sub_a"), DeadLetter("evt_0", "sub_a")],
        )
    )
    assert ledger.ok
    assert ledger.counts[Category.DELIVERED] == 1
    assert ledger.counts[Category.DEAD_LETTERED] == 0
    assert ledger.also_dead_lettered == (Pair("evt_1", "sub_a"),)
    assert ledger.stray_dead_letters == (DeadLetter("evt_0", "sub_a"),)


def test_a_pair_expected_twice_with_two_bodies_is_a_harness_error() -> None:
    twice = [Expected("evt_1", "sub_a", b"{}"), Expected("evt_1", "sub_a", b"[]")]
    with pytest.raises(ValueError, match="expected twice"):
        reconcile(Inputs(expected=twice))


def test_verify_agrees_with_the_standard_webhooks_library() -> None:
    body = body_of("evt_1")
    now = int(time.time())
    headers = webhook_headers([SECRETS["sub_a"]], "evt_1", now, body)
    Webhook(SECRETS["sub_a"]).verify(body, headers)
    assert verify(SECRETS["sub_a"], headers, body)
    assert not verify(SECRETS["sub_b"], headers, body)


def test_verify_takes_any_of_the_rotated_signatures() -> None:
    body = body_of("evt_1")
    headers = webhook_headers([STRANGER, SECRETS["sub_a"]], "evt_1", NOW, body)
    assert verify(SECRETS["sub_a"], headers, body, at=NOW)
    assert verify(STRANGER, headers, body, at=NOW)


BODY = body_of("evt_1")
SIGNED = webhook_headers([SECRETS["sub_a"]], "evt_1", NOW, BODY)


@pytest.mark.parametrize(
    ("headers", "body", "at"),
    [
        pytest.param(SIGNED, BODY, NOW + 301, id="too-old"),
        pytest.param(SIGNED, BODY, NOW - 301, id="too-new"),
        pytest.param(SIGNED, b" " + BODY, NOW, id="other-body"),
        pytest.param(SIGNED, b"\xff" + BODY, NOW, id="body-not-utf-8"),
        pytest.param(SIGNED | {"webhook-id": "evt_2"}, BODY, NOW, id="other-id"),
        pytest.param(SIGNED | {"webhook-timestamp": "1.8e9"}, BODY, NOW, id="odd-timestamp"),
        pytest.param(SIGNED | {"webhook-signature": "v1,not base64!"}, BODY, NOW, id="not-b64"),
        pytest.param(SIGNED | {"webhook-signature": "v1"}, BODY, NOW, id="no-comma"),
        pytest.param(SIGNED | {"webhook-signature": ""}, BODY, NOW, id="no-signature"),
        pytest.param({"webhook-timestamp": str(NOW)}, BODY, NOW, id="no-id"),
    ],
)
def test_verify_refuses_without_raising(headers: dict[str, str], body: bytes, at: int) -> None:
    assert not verify(SECRETS["sub_a"], headers, body, at=at)


def test_the_library_and_verify_sign_the_same_string() -> None:
    body = body_of("evt_1")
    signed = Webhook(SECRETS["sub_a"]).sign(
        "evt_1", datetime.fromtimestamp(NOW, UTC), body.decode()
    )
    headers = {"webhook-id": "evt_1", "webhook-timestamp": str(NOW), "webhook-signature": signed}
    assert verify(SECRETS["sub_a"], headers, body, at=NOW)


def test_an_operational_notice_naming_another_pairs_event_is_neither_a_copy_nor_a_stranger() -> (
    None
):
    notice = json.dumps(
        {"type": "delivery.exhausted", "data": {"event_id": "evt_1", "subscription_id": "sub_a"}}
    ).encode()
    ledger = ledger_of(
        expect(*PAIRS),
        *(seen(e, s) for e, s in PAIRS),
        seen("evt_1", "sub_b", body=notice, webhook_id="evt_notice"),
    )
    assert ledger.ok and len(ledger.notices) == 1 and not ledger.mismatches


def test_an_event_dead_lettered_in_the_events_dlq_is_accounted_and_counted_apart() -> None:
    letters = [DeadLetter("evt_2", "sub_a", queue="events_dlq")]
    ledger = reconcile(
        Inputs(
            expected=expect(*PAIRS),
            observations=[seen(*PAIRS[0]), seen(*PAIRS[1])],
            dead_letters=letters,
        )
    )
    assert ledger.ok and ledger.counts[Category.DEAD_LETTERED] == 1 and ledger.in_events_dlq == 1
