"""The delivery log as the success mark: a message processed again after a crash at any
step of its bookkeeping sends nothing its log shows ended, and loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parcelhooks.core.ids import delivery_id
from testkit.factories import NOW, shipment_event, subscription
from testkit.fakes import FanoutKit, Scripted

# The bookkeeping's writes, in the order Bookkeeping.settle makes them (the log is written
# twice: the lines that ended deliveries first, the others after the dead-letter queue).
STEPS = ("disable", "schedule", "count", "dead_letter", "log", "notices")
EVENT_ID = "evt_01TEST"


class Crash(BaseException):
    """The worker dies: nothing after this point of the invocation happens (a BaseException,
    so no `except Exception` of the code under test can swallow it)."""


def _crash_at(kit: FanoutKit, step: str) -> Callable[[], None]:
    """Make `step`'s write kill the invocation, before it is made; returns the undo."""
    targets: dict[str, tuple[Any, str]] = {
        "disable": (kit.subscriptions, "disable"),
        "schedule": (kit.retries, "schedule"),
        "count": (kit.health, "count"),
        "dead_letter": (kit.dead_letters, "send"),
        "log": (kit.log, "record"),
        "notices": (kit.notices, "publish"),
    }
    owner, name = targets[step]
    original = getattr(owner, name)

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise Crash(step)

    setattr(owner, name, crash)
    return lambda: setattr(owner, name, original)


def _process(kit: FanoutKit, body: str) -> None:
    kit.fanout.begin_invocation()
    asyncio.run(kit.fanout.handle_message(body))  # SQS hands the message over (again)


@settings(max_examples=60, deadline=None)
@given(
    answers=st.lists(st.sampled_from([204, 500, 410, None]), min_size=1, max_size=4),
    step=st.sampled_from(STEPS),
    schedule_s=st.sampled_from([(), (1, 2, 4)]),
)
def test_a_redelivery_after_a_crash_at_any_step_resends_nothing_settled_and_loses_nothing(
    answers: list[Scripted], step: str, schedule_s: tuple[int, ...]
) -> None:
    subs = [subscription(id=f"sub_{i}", url=f"https://s{i}.example/h") for i in range(len(answers))]
    kit = FanoutKit(
        subs,
        scripts={s.url: [answer, 204] for s, answer in zip(subs, answers, strict=True)},
        schedule_s=schedule_s,
    )
    body = shipment_event(event_id=EVENT_ID).model_dump_json()
    undo = _crash_at(kit, step)
    with contextlib.suppress(Crash):  # unless the step is never reached (nothing to disable)
        _process(kit, body)
    undo()
    settled = set(kit.log.done)
    sent_before = len(kit.sender.requests)

    _process(kit, body)

    again = {r.url for r in kit.sender.requests[sent_before:]}
    for sub in subs:
        dlv = delivery_id(EVENT_ID, sub.id, NOW)
        if dlv in settled:
            assert sub.url not in again, f"{sub.id} was settled before the crash"
        stored = kit.subscriptions.get(sub.merchant_id, sub.id)
        accounted = (
            dlv in kit.log.done
            or any(job.delivery_id == dlv for job in kit.retries.jobs)
            or any(letter.delivery_id == dlv for letter in kit.dead_letters.dead)
            or (stored is not None and not stored.enabled)  # 410: disabled, logged
        )
        assert accounted, f"{sub.id} is neither delivered, retried, dead-lettered nor disabled"


@pytest.mark.parametrize("step", STEPS)
def test_a_success_logged_before_the_crash_is_not_sent_again(step: str) -> None:
    ok, failing = (
        subscription(id="sub_ok", url="https://ok.example/h"),
        subscription(id="sub_failing", url="https://failing.example/h"),
    )
    kit = FanoutKit([ok, failing], scripts={failing.url: [500, 204]})
    body = shipment_event(event_id=EVENT_ID).model_dump_json()
    undo = _crash_at(kit, step)
    with contextlib.suppress(Crash):
        _process(kit, body)
    undo()
    logged = delivery_id(EVENT_ID, ok.id, NOW) in kit.log.done
    _process(kit, body)
    posts_to_ok = [r for r in kit.sender.requests if r.url == ok.url]
    # Settled (its line written) before the crash: one POST; else a second, same webhook-id.
    assert len(posts_to_ok) == (1 if logged else 2)
    assert len({r.headers["webhook-id"] for r in posts_to_ok}) == 1
    assert delivery_id(EVENT_ID, ok.id, NOW) in kit.log.done


@pytest.mark.parametrize(
    ("step", "answer", "schedule_s"),
    [
        ("disable", 410, (1,)),
        ("schedule", 500, (1,)),
        ("count", 500, (1,)),
        ("dead_letter", 500, ()),
        ("notices", 410, (1,)),
    ],
)
def test_a_success_is_logged_before_the_rest_of_the_bookkeeping(
    step: str, answer: Scripted, schedule_s: tuple[int, ...]
) -> None:
    """A worker that dies while settling a sibling's failure has already written the
    success: the message handed back does not send it again."""
    ok, failing = (
        subscription(id="sub_ok", url="https://ok.example/h"),
        subscription(id="sub_failing", url="https://failing.example/h"),
    )
    kit = FanoutKit([ok, failing], scripts={failing.url: [answer, 204]}, schedule_s=schedule_s)
    body = shipment_event(event_id=EVENT_ID).model_dump_json()
    undo = _crash_at(kit, step)
    with pytest.raises(Crash):
        _process(kit, body)
    undo()
    assert delivery_id(EVENT_ID, ok.id, NOW) in kit.log.done
    _process(kit, body)
    assert len([r for r in kit.sender.requests if r.url == ok.url]) == 1
