"""What a hostile receiver can send, generated: it ends as one delivery's outcome, never more.

Two of the three layers, each with its own property: the wire reads any bytes into an answer
or a ProtocolError / IncompleteReadError; and the fan-out keeps every delivery's bookkeeping
whatever results come back and whichever log lines cannot be written. The third, HttpSender
against a loopback raw-byte receiver, is in tests/component/test_hostile_receivers.py.
"""

from __future__ import annotations

import asyncio
import math
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from parcelhooks.core.deliveries import Outcome
from parcelhooks.core.ids import delivery_id
from parcelhooks.delivery.http.wire import (
    ProtocolError,
    Response,
    ResponseHead,
    parse_head,
    read_response,
)
from parcelhooks.delivery.outcomes import AttemptResult, classify, retry_after_s
from testkit.factories import NOW, attempt_record, shipment_event, subscription
from testkit.fakes import FanoutKit, Scripted
from testkit.hostile_answers import (
    CRLF,
    TOKEN_CHARS,
    answers,
    chunked_bodies,
    header_blocks,
    status_lines,
)
from testkit.streams import fed

# What reading an answer may raise: a malformed answer, or a stream that ended too soon.
WIRE_ERRORS = (ProtocolError, asyncio.IncompleteReadError)
VISIBLE = st.characters(min_codepoint=0x21, max_codepoint=0x7E)


def read_or_error(data: bytes) -> Response | BaseException:
    """The answer in `data`, or the wire error reading it raised (anything else propagates)."""
    try:
        return fed(data, read_response)
    except WIRE_ERRORS as error:
        return error


def head_or_error(data: bytes) -> ResponseHead | ProtocolError:
    try:
        return parse_head(data)
    except ProtocolError as error:
        return error


# The wire


@given(data=st.binary(max_size=4096))
def test_any_bytes_are_an_answer_or_a_wire_error(data: bytes) -> None:
    outcome = read_or_error(data)
    assert isinstance(outcome, WIRE_ERRORS) or 200 <= outcome.status <= 599


@given(answer=answers)
def test_any_generated_answer_is_an_answer_or_a_wire_error(answer: bytes) -> None:
    outcome = read_or_error(answer)
    assert isinstance(outcome, WIRE_ERRORS) or 200 <= outcome.status <= 599


@given(line=status_lines)
def test_a_status_line_is_taken_only_when_it_is_strictly_http_1(line: bytes) -> None:
    outcome = head_or_error(line + CRLF + CRLF)
    if isinstance(outcome, ResponseHead):
        version, code = line.split(b" ", 2)[:2]
        assert version in (b"HTTP/1.0", b"HTTP/1.1")
        assert code == str(outcome.status).encode() and 100 <= outcome.status <= 599


@given(
    version=st.sampled_from(["HTTP/1.0", "HTTP/1.1"]),
    code=st.integers(100, 599),
    reason=st.text(
        VISIBLE | st.sampled_from(" \t") | st.characters(min_codepoint=0x80, max_codepoint=0xFF),
        max_size=40,
    ),
)
def test_every_well_formed_status_line_is_read(version: str, code: int, reason: str) -> None:
    head = parse_head(f"{version} {code} {reason}\r\n\r\n".encode("latin-1"))
    assert head.status == code


@given(block=header_blocks)
def test_a_header_block_is_read_only_when_every_field_is_well_formed(block: bytes) -> None:
    outcome = head_or_error(b"HTTP/1.1 200 OK\r\n" + block + CRLF)
    if isinstance(outcome, ResponseHead):
        for name, value in outcome.headers.items():
            assert name and set(name) <= set(TOKEN_CHARS.lower())
            assert all(c == "\t" or 0x20 <= ord(c) <= 0x7E or ord(c) >= 0x80 for c in value)


@given(
    fields=st.lists(
        st.tuples(st.text(TOKEN_CHARS, min_size=1, max_size=12), st.text(VISIBLE, max_size=30)),
        max_size=6,
    )
)
def test_well_formed_header_fields_are_all_read(fields: list[tuple[str, str]]) -> None:
    block = "".join(f"{name}: {value}\r\n" for name, value in fields)
    head = parse_head(f"HTTP/1.1 200 OK\r\n{block}\r\n".encode())
    assert set(head.headers) == {name.lower() for name, _ in fields}


@given(body=chunked_bodies())
def test_any_chunk_framing_is_a_body_or_a_wire_error(body: bytes) -> None:
    outcome = read_or_error(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
    assert isinstance(outcome, WIRE_ERRORS) or len(outcome.excerpt) <= 4096


@given(chunks=st.lists(st.binary(min_size=1, max_size=600), max_size=6))
def test_honest_chunks_are_joined_whole(chunks: list[bytes]) -> None:
    framed = b"".join(f"{len(c):x}".encode() + CRLF + c + CRLF for c in chunks) + b"0\r\n\r\n"
    response = fed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + framed, read_response)
    joined = b"".join(chunks)
    assert response.excerpt == joined[:4096]
    assert response.reusable is (len(joined) <= 4096)


# The fan-out, with whatever results a sender returns and a log that refuses some lines

results = st.builds(
    AttemptResult,
    status_code=st.none() | st.integers(100, 599),
    latency_ms=st.floats(0, 1e7, allow_nan=False, allow_infinity=False),
    error=st.none() | st.text(max_size=20),
    response_excerpt=st.text(max_size=200),
    retry_after=st.none() | st.text(max_size=40) | st.integers(0, 10**40).map(str),
)
steps: st.SearchStrategy[Scripted] = results | st.builds(RuntimeError, st.text(max_size=10))


def expected_outcome(step: Scripted) -> Outcome:
    return classify(step) if isinstance(step, AttemptResult) else Outcome.RETRY


@given(
    sent=st.lists(steps, min_size=1, max_size=5),
    unwritable=st.sets(st.integers(0, 4)),
    schedule_s=st.sampled_from([(), (1, 2, 4)]),
)
def test_no_result_and_no_bad_log_line_drops_another_delivery_s_bookkeeping(
    sent: list[Scripted], unwritable: set[int], schedule_s: tuple[int, ...]
) -> None:
    subs = [subscription(id=f"sub_{i}", url=f"https://s{i}.example/h") for i in range(len(sent))]
    kit = FanoutKit(
        subs,
        scripts={s.url: [step] for s, step in zip(subs, sent, strict=True)},
        schedule_s=schedule_s,
    )
    refused = {subs[i].id for i in unwritable if i < len(subs)}
    kit.log.refuse = lambda record: record.subscription_id in refused
    try:
        asyncio.run(kit.fanout.handle_message(shipment_event().model_dump_json()))
    except RuntimeError:
        assert refused == {s.id for s in subs}  # only a log that took no line fails it
    assert {a.subscription_id for a in kit.log.attempts} == {s.id for s in subs} - refused
    assert len(kit.telemetry.attempts) == len(subs)
    for sub, step in zip(subs, sent, strict=True):
        outcome = expected_outcome(step)
        assert_bookkept_as_its_outcome(kit, sub.id, outcome, schedule_s, sub.id not in refused)


def assert_bookkept_as_its_outcome(
    kit: FanoutKit,
    sub_id: str,
    outcome: Outcome,
    schedule_s: tuple[int, ...],
    logged: bool = True,
) -> None:
    """As the outcome says; done (never sent again) only when its success line is logged."""
    marked = delivery_id("evt_01TEST", sub_id, NOW) in kit.log.done
    stored = kit.subscriptions.get("merchant-a", sub_id)
    retried = any(job.subscription_id == sub_id for job in kit.retries.jobs)
    dead = any(d.subscription_id == sub_id for d in kit.dead_letters.dead)
    assert marked is (outcome is Outcome.DELIVERED and logged)
    assert (stored is not None and not stored.enabled) is (outcome is Outcome.DISABLE)
    assert retried is (outcome is Outcome.RETRY and bool(schedule_s))
    assert dead is (outcome is Outcome.RETRY and not schedule_s)


@given(
    header=st.text(max_size=60) | st.integers(0, 10**400).map(str),
    status=st.sampled_from([429, 503]),
)
def test_any_retry_after_is_a_wait_or_none(header: str, status: int) -> None:
    wait = retry_after_s(AttemptResult(status, 1.0, retry_after=header), NOW)
    assert wait is None or wait >= 0


# Values the log cannot store are refused where they would be built


@pytest.mark.parametrize("status", [0, 99, 600, 999, 10**40, -200])
def test_a_result_with_an_impossible_status_cannot_be_built(status: int) -> None:
    with pytest.raises(ValueError, match="outside 100-599"):
        AttemptResult(status, 1.0)


@pytest.mark.parametrize("latency", [math.nan, math.inf, -1.0])
def test_a_result_with_an_impossible_latency_cannot_be_built(latency: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        AttemptResult(200, latency)


@pytest.mark.parametrize(
    "field",
    [
        {"status_code": 10**40},
        {"status_code": 600},
        {"status_code": 99},
        {"latency_ms": math.nan},
        {"latency_ms": math.inf},
        {"latency_ms": -1.0},
        {"attempt": 0},
    ],
    ids=str,
)
def test_an_attempt_record_refuses_what_the_log_cannot_store(field: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        attempt_record(**field)


def test_a_record_without_its_excerpt_keeps_everything_else() -> None:
    record = attempt_record(response_excerpt="\x00" * 10, attempted_at=datetime(2026, 1, 1))
    lean = record.without_response_excerpt()
    assert lean.model_dump(exclude={"response_excerpt"}) == record.model_dump(
        exclude={"response_excerpt"}
    )
    assert lean.response_excerpt != record.response_excerpt
