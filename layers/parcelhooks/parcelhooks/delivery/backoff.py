"""When to try a failed delivery again."""

import random
from datetime import datetime, timedelta


def retry_delay_s(
    schedule_s: tuple[int, ...],
    attempt: int,
    jitter: float,
    rng: random.Random,
    retry_after_s: float | None = None,
) -> float | None:
    """Seconds to wait after failed attempt number `attempt` (1-based); None once exhausted.

    A receiver's Retry-After replaces the scheduled step, bounded by the schedule's longest
    step so one header cannot park a delivery for days.
    """
    if attempt < 1 or attempt > len(schedule_s):
        return None
    base = float(schedule_s[attempt - 1])
    if retry_after_s is not None:
        return min(max(retry_after_s, 0.0), float(max(schedule_s)))
    return base * rng.uniform(1 - jitter, 1 + jitter)


def due_after(now: datetime, delay_s: float) -> datetime:
    return now + timedelta(seconds=delay_s)
