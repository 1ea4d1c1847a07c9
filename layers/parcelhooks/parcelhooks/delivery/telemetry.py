"""Logs and EMF metrics for each delivery attempt and dead letter."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from parcelhooks.core.deliveries import AttemptRecord, DeadLetter
from parcelhooks.core.models import Subscription
from parcelhooks.core.observability import logger, metrics
from parcelhooks.core.operational import DisabledBy

_OUTCOME_METRICS = {
    "delivered": "DeliveriesSucceeded",
    "retry": "DeliveriesFailed",
    "exhausted": "DeliveriesFailed",  # a failed attempt all the same: the last one
    "disable": "DeliveriesGone",
}


class PowertoolsTelemetry:
    """Structured logs keyed by event id, and EMF metrics, for each delivery attempt.

    Called from the fan-out's event loop thread only, so the metric buffer needs no lock.
    """

    def attempted(self, record: AttemptRecord) -> None:
        """Metrics for every attempt; a log line at INFO for a failure only. A success's line
        is DEBUG: the delivery log (DeliveriesTable) and the metrics already hold it, and
        CloudWatch Logs bills every line ingested (docs/decisions.md)."""
        metrics.add_metric(_OUTCOME_METRICS[record.outcome], MetricUnit.Count, 1)
        metrics.add_metric("DeliveryLatency", MetricUnit.Milliseconds, record.latency_ms)
        log = logger.debug if record.outcome == "delivered" else logger.info
        log(
            "delivery attempt",
            correlation_id=record.event_id,
            event_id=record.event_id,
            delivery_id=record.delivery_id,
            subscription_id=record.subscription_id,
            merchant_id=record.merchant_id,
            attempt=record.attempt,
            outcome=record.outcome,
            status_code=record.status_code,
            error=record.error,
            latency_ms=record.latency_ms,
            next_attempt_at=record.next_attempt_at.isoformat() if record.next_attempt_at else None,
        )

    def unrendered(self, record: AttemptRecord) -> None:
        # The template's error says where it failed, never a value of the event.
        metrics.add_metric("DeliveriesNotRendered", MetricUnit.Count, 1)
        logger.warning(
            "delivery not rendered",
            correlation_id=record.event_id,
            event_id=record.event_id,
            delivery_id=record.delivery_id,
            subscription_id=record.subscription_id,
            merchant_id=record.merchant_id,
            outcome=record.outcome,
            error=record.error,
        )

    def dead_lettered(self, dead: DeadLetter) -> None:
        metrics.add_metric("DeliveriesDeadLettered", MetricUnit.Count, 1)
        logger.warning(
            "delivery dead-lettered",
            correlation_id=dead.event.event_id,
            event_id=dead.event.event_id,
            delivery_id=dead.delivery_id,
            subscription_id=dead.subscription_id,
            attempts=dead.attempts,
            last_status=dead.last_status,
            last_error=dead.last_error,
        )

    def disabled(self, subscription: Subscription, by: DisabledBy, reason: str) -> None:
        # SubscriptionDisabledAlarm watches this metric: ops hear what the merchant hears.
        metrics.add_metric("SubscriptionsDisabled", MetricUnit.Count, 1)
        logger.warning(
            "subscription disabled",
            subscription_id=subscription.id,
            merchant_id=subscription.merchant_id,
            disabled_by=by,
            reason=reason,
        )
