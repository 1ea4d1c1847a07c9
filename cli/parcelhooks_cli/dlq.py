"""`parcelhooks dlq`: the dead-letter queues' depth and age, a look inside, and the redrive.

Looking never takes anything away: `stats` and `peek` receive with a short visibility
timeout and make what they received visible again at once (ChangeMessageVisibility 0).
Moving happens only in the RedriveFunction, which this module invokes in chunks.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from botocore.config import Config
from botocore.exceptions import ClientError
from pydantic import TypeAdapter

from parcelhooks.aws.dead_letters import DeadLetterReader
from parcelhooks.core.deliveries import DeadLetter, DeliveryJob
from parcelhooks.core.held_messages import HeldMessage
from parcelhooks.core.operational import WebhookEvent
from parcelhooks.ops.redrive import MAX_EXAMINED, RedriveResult
from parcelhooks_cli.errors import EXIT_FAILED, CommandFailed, Problem, problem_from_error_shape
from parcelhooks_cli.target import Target

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

Queue = Literal["deliveries", "events"]
QUEUE_OUTPUTS: dict[Queue, str] = {"deliveries": "DeliveriesDLQUrl", "events": "EventsDLQUrl"}
# How long a look keeps messages from others if the CLI dies before releasing them.
LOOK_HOLD_S = 20
# At most this many SentTimestamps are sampled for the age of the oldest message.
AGE_SAMPLE = 50
# Dead letters asked of one RedriveFunction invocation.
REDRIVE_CHUNK = 50
# The RedriveFunction may run 300 s (template.yaml); wait a little longer for its answer,
# and never retry an invoke: a second run would start while the first still holds messages.
INVOKE_CONFIG = Config(read_timeout=330, connect_timeout=10, retries={"total_max_attempts": 1})
CLOUDWATCH_WINDOW = timedelta(minutes=15)

AgeSource = Literal["cloudwatch", "sample"]
Invoke = Callable[[dict[str, Any]], dict[str, Any]]


def dlq_url(target: Target, queue: Queue) -> str:
    return target.output(QUEUE_OUTPUTS[queue])


def _queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _depth(sqs: SQSClient, url: str) -> tuple[int, int]:
    """(visible, in flight) messages, from GetQueueAttributes."""
    got = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )
    attributes = got.get("Attributes", {})
    return (
        int(attributes.get("ApproximateNumberOfMessages", "0")),
        int(attributes.get("ApproximateNumberOfMessagesNotVisible", "0")),
    )


@contextmanager
def _looking(sqs: SQSClient, url: str, limit: int) -> Iterator[list[HeldMessage]]:
    """Up to `limit` messages, held for the block and made visible again at once after it."""
    reader = DeadLetterReader(sqs, url, LOOK_HOLD_S)
    held: list[HeldMessage] = []
    try:
        while len(held) < limit:
            batch = reader.receive(limit - len(held))
            if not batch:
                break
            held += batch
        yield held
    finally:
        reader.release([message.handle for message in held])


# --- stats -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueStats:
    queue: Queue
    url: str
    visible: int
    in_flight: int
    oldest_age_s: float | None
    # Where the age comes from: CloudWatch's ApproximateAgeOfOldestMessage, or the oldest
    # SentTimestamp of `sampled` messages (a sample may miss the very oldest).
    age_source: AgeSource | None
    sampled: int = 0

    @property
    def depth(self) -> int:
        return self.visible + self.in_flight

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "depth": self.depth}


def queue_stats(target: Target, queue: Queue, now: datetime) -> QueueStats:
    url = dlq_url(target, queue)
    sqs = target.client("sqs")
    visible, in_flight = _depth(sqs, url)
    if visible + in_flight == 0:
        return QueueStats(queue, url, visible, in_flight, None, None)
    if not target.local:
        age = _cloudwatch_age(target, _queue_name(url), now)
        if age is not None:
            return QueueStats(queue, url, visible, in_flight, age, "cloudwatch")
    with _looking(sqs, url, min(visible, AGE_SAMPLE)) as sample:
        if not sample:  # every message is held by someone else right now
            return QueueStats(queue, url, visible, in_flight, None, None)
        oldest = min(message.sent_at for message in sample)
        age_s = max(0.0, (now - oldest).total_seconds())
        return QueueStats(queue, url, visible, in_flight, age_s, "sample", len(sample))


def _cloudwatch_age(target: Target, queue_name: str, now: datetime) -> float | None:
    """The latest ApproximateAgeOfOldestMessage, or None if CloudWatch has none for us."""
    try:
        got = target.client("cloudwatch").get_metric_statistics(
            Namespace="AWS/SQS",
            MetricName="ApproximateAgeOfOldestMessage",
            Dimensions=[{"Name": "QueueName", "Value": queue_name}],
            StartTime=now - CLOUDWATCH_WINDOW,
            EndTime=now,
            Period=60,
            Statistics=["Maximum"],
        )
    except ClientError:  # e.g. no cloudwatch:GetMetricStatistics: the sample will do
        return None
    points = sorted(got.get("Datapoints", []), key=lambda point: point["Timestamp"])
    return float(points[-1]["Maximum"]) if points else None


# --- peek --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LetterSummary:
    """A dead letter in a line: whose, what, and why it is there."""

    id: str | None  # delivery id, or event id
    merchant_id: str | None
    subscription_id: str | None
    event_type: str | None
    tracking_code: str | None
    attempts: int | None
    last_error: str | None
    dead_lettered_at: datetime  # last attempt (deliveries), or when first queued (events)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _last_failure(status: int | None, error: str | None) -> str | None:
    return f"HTTP {status}" if status is not None else error


def _of_delivery(letter: DeadLetter | DeliveryJob, attempts: int, at: datetime) -> LetterSummary:
    return LetterSummary(
        letter.delivery_id,
        letter.merchant_id,
        letter.subscription_id,
        letter.event.type,
        getattr(letter.event, "tracking_code", None),
        attempts,
        _last_failure(letter.last_status, letter.last_error),
        at,
    )


_EVENT: TypeAdapter[WebhookEvent] = TypeAdapter(WebhookEvent)


def summarize(message: HeldMessage, queue: Queue) -> LetterSummary:
    """What a dead letter is about; one nobody can read says so in `last_error`."""
    try:
        if queue == "deliveries":
            dead = DeadLetter.model_validate_json(message.body)
            return _of_delivery(dead, dead.attempts, dead.last_attempt_at)
        content = json.loads(message.body)
        if isinstance(content, dict) and content.get("kind") == "retry":
            job = DeliveryJob.model_validate(content)  # a retry message that was poison
            return _of_delivery(job, job.attempt - 1, message.sent_at)
        event = _EVENT.validate_python(content)
        return LetterSummary(
            event.event_id,
            event.merchant_id,
            None,
            event.type,
            getattr(event, "tracking_code", None),
            None,
            "poison: the fan-out failed on it",
            message.sent_at,
        )
    except ValueError:  # pydantic's ValidationError too
        unreadable = f"unreadable: {message.body[:80]!r}"
        return LetterSummary(None, None, None, None, None, None, unreadable, message.sent_at)


def peek(target: Target, queue: Queue, count: int) -> list[LetterSummary]:
    with _looking(target.client("sqs"), dlq_url(target, queue), count) as held:
        return [summarize(message, queue) for message in held]


# --- redrive -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RedriveFilters:
    queue: Queue
    merchant_id: str | None = None
    subscription_id: str | None = None
    event_type: str | None = None
    since: str | None = None
    dry_run: bool = False

    def payload(self, max_messages: int) -> dict[str, Any]:
        """The RedriveFunction's payload; filters left out are not sent."""
        optional = {
            "merchant_id": self.merchant_id,
            "subscription_id": self.subscription_id,
            "event_type": self.event_type,
            "since": self.since,
            "dry_run": self.dry_run or None,
        }
        present = {name: value for name, value in optional.items() if value is not None}
        return {"queue": self.queue, "max_messages": max_messages, **present}


class RedriveSummary(RedriveResult):
    """The invocations' results added up, in the function's own result shape.

    `moved` is a plain sum (a moved letter is gone from the DLQ). A skipped letter stays
    in the DLQ and the next invocation matches it again, so skipped ids are counted once.
    `left` is what the last invocation left in the DLQ: each pass sees the letters the
    ones before it left, so their sum would count them again.
    """

    invocations: int = 0

    def add(self, result: RedriveResult) -> int:
        """Count one invocation's result in; return how many letters it matched for the
        first time (moved, or skipped for the first time)."""
        seen = set(self.skipped_ids)
        new_skipped = [key for key in result.skipped_ids if key not in seen]
        self.invocations += 1
        self.matched += result.matched - (len(result.skipped_ids) - len(new_skipped))
        self.moved += result.moved
        self.moved_ids += result.moved_ids
        self.skipped_ids += new_skipped
        self.skipped = len(self.skipped_ids)
        self.left = result.left
        return result.moved + len(new_skipped)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def lambda_invoker(target: Target) -> Invoke:
    """Invoke the stack's RedriveFunction and wait for its answer (RequestResponse)."""
    client = target.client("lambda", INVOKE_CONFIG)
    name = target.output("RedriveFunctionName")

    def invoke(payload: dict[str, Any]) -> dict[str, Any]:
        response = client.invoke(
            FunctionName=name,
            InvocationType="RequestResponse",
            Payload=json.dumps(payload).encode(),
        )
        answer: Any = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            raise CommandFailed(_function_failure(name, answer))
        if not isinstance(answer, dict):
            raise CommandFailed(Problem("bad_answer", f"{name} answered {answer!r}", EXIT_FAILED))
        return answer

    return invoke


def _function_failure(name: str, answer: Any) -> Problem:
    """An unhandled error in the function (Lambda's errorType/errorMessage answer)."""
    error = answer if isinstance(answer, dict) else {}
    what = f"{error.get('errorType', 'error')}: {error.get('errorMessage', answer)}"
    return Problem("function_error", f"{name} failed: {what}", EXIT_FAILED)


def _result(answer: dict[str, Any]) -> RedriveResult:
    if "error" in answer:  # the function refused the payload
        problem = problem_from_error_shape(answer, "the redrive function refused the payload")
        raise CommandFailed(problem, answer)
    return RedriveResult.model_validate(answer)


def _saw_everything(result: RedriveResult, asked: int) -> bool:
    """The function matched fewer than asked before it ran out of letters to look at: a
    further chunk would match nothing (letters held elsewhere are held from it too)."""
    return result.matched < asked and result.matched + result.left < MAX_EXAMINED


def redrive(
    invoke: Invoke,
    filters: RedriveFilters,
    max_messages: int,
    advance: Callable[[int], None] = lambda _count: None,
) -> RedriveSummary:
    """Invoke the RedriveFunction chunk by chunk until `max_messages` letters matched or a
    chunk matches nothing new; a dry run is one invocation (it moves nothing, so a second
    would see the same letters again)."""
    summary = RedriveSummary(queue=filters.queue, dry_run=filters.dry_run)
    if filters.dry_run:
        advance(summary.add(_result(invoke(filters.payload(max_messages)))))
        return summary
    while summary.matched < max_messages:
        asked = min(REDRIVE_CHUNK, max_messages - summary.matched)
        result = _result(invoke(filters.payload(asked)))
        new = summary.add(result)
        advance(new)
        if new == 0 or _saw_everything(result, asked):
            break
    return summary


def redrive_bound(target: Target, queue: Queue, max_messages: int) -> int:
    """The most a redrive can match: --max, or fewer if the DLQ holds fewer."""
    visible, in_flight = _depth(target.client("sqs"), dlq_url(target, queue))
    return min(max_messages, visible + in_flight)
