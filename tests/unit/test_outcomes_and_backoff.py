"""Outcome rules, the retry schedule with jitter, Retry-After and SQS re-deferral."""

from datetime import timedelta
from random import Random

import pytest

from devstack.template import parameter_default
from parcelhooks.aws.queues import SQS_MAX_DELAY_S, sqs_delay_s
from parcelhooks.core.deliveries import Outcome
from parcelhooks.delivery.backoff import retry_delay_s
from parcelhooks.delivery.outcomes import AttemptResult, classify, retry_after_s
from testkit.factories import NOW

# The deployed default, read where it is set.
DEFAULT_RETRY_SCHEDULE_S = tuple(
    int(step) for step in parameter_default("RetrySchedule").split(",")
)


def _result(status: int | None, retry_after: str | None = None, error: str | None = None):
    return AttemptResult(status_code=status, latency_ms=1, error=error, retry_after=retry_after)


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_any_2xx_is_delivered(status: int) -> None:
    assert classify(_result(status)) is Outcome.DELIVERED


@pytest.mark.parametrize("status", [301, 302, 307, 308, 400, 401, 404, 429, 500, 502, 503])
def test_redirects_and_other_errors_are_retried(status: int) -> None:
    assert classify(_result(status)) is Outcome.RETRY


def test_410_gone_disables_the_subscription() -> None:
    assert classify(_result(410)) is Outcome.DISABLE


@pytest.mark.parametrize("error", ["timeout", "connection_error", "blocked_target", "tls_error"])
def test_no_answer_is_retried(error: str) -> None:
    assert classify(_result(None, error=error)) is Outcome.RETRY


def test_the_default_schedule_is_8_attempts_over_about_27_6_hours() -> None:
    assert len(DEFAULT_RETRY_SCHEDULE_S) + 1 == 8
    assert sum(DEFAULT_RETRY_SCHEDULE_S) / 3600 == pytest.approx(27.6, abs=0.05)


def test_jitter_stays_within_20_percent_and_actually_varies() -> None:
    rng = Random(1)
    for attempt, step in enumerate(DEFAULT_RETRY_SCHEDULE_S, start=1):
        delays = {retry_delay_s(DEFAULT_RETRY_SCHEDULE_S, attempt, 0.2, rng) for _ in range(200)}
        assert all(step * 0.8 <= d <= step * 1.2 for d in delays if d is not None)
        assert len(delays) > 100


def test_after_the_last_step_there_is_no_next_attempt() -> None:
    assert retry_delay_s((1, 2, 4), 4, 0.2, Random(1)) is None


@pytest.mark.parametrize(("header", "expected"), [("120", 120.0), ("0", 0.0)])
def test_retry_after_in_seconds(header: str, expected: float) -> None:
    assert retry_after_s(_result(429, header), NOW) == expected


def test_retry_after_as_an_http_date() -> None:
    header = "Sat, 28 Nov 2026 12:10:00 GMT"  # ten minutes after NOW
    assert retry_after_s(_result(503, header), NOW) == 600.0


@pytest.mark.parametrize("header", ["soon", "", "-5", "Sat, 99 Foo 2026", "\u00b2"])
def test_unreadable_retry_after_is_ignored(header: str) -> None:
    assert retry_after_s(_result(503, header), NOW) is None


def test_retry_after_counts_only_on_429_and_503() -> None:
    assert retry_after_s(_result(500, "120"), NOW) is None


def test_retry_after_replaces_the_step_but_is_bounded_by_the_longest_step() -> None:
    schedule = (5, 300, 1800)
    assert retry_delay_s(schedule, 1, 0.2, Random(1), retry_after_s=60) == 60
    assert retry_delay_s(schedule, 1, 0.2, Random(1), retry_after_s=86_400) == 1800


def test_waits_past_15_minutes_are_asked_of_sqs_in_15_minute_slices() -> None:
    due = NOW + timedelta(hours=2)
    assert sqs_delay_s(due, NOW) == SQS_MAX_DELAY_S == 900
    assert sqs_delay_s(due, due - timedelta(seconds=90.2)) == 91
    assert sqs_delay_s(due, due + timedelta(seconds=5)) == 0
