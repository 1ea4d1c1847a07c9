import json
import logging
from collections.abc import Iterator

import pytest

from parcelhooks.core.deliveries import AttemptRecord, DeadLetter
from parcelhooks.core.observability import logger, metrics
from parcelhooks.delivery.telemetry import PowertoolsTelemetry
from testkit.factories import NOW, attempt_record, shipment_event


@pytest.fixture(autouse=True)
def _clean_metrics() -> Iterator[None]:
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def _record(outcome: str, latency_ms: float = 42.0) -> AttemptRecord:
    return attempt_record(outcome=outcome, latency_ms=latency_ms)


def _metric_values() -> dict[str, list[float]]:
    emf = metrics.serialize_metric_set()
    names = [m["Name"] for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    return {name: emf[name] if isinstance(emf[name], list) else [emf[name]] for name in names}


def test_each_attempt_counts_its_outcome_and_latency(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=logger.name)
    telemetry = PowertoolsTelemetry()
    telemetry.attempted(_record("delivered", 10.0))
    telemetry.attempted(_record("delivered", 30.0))
    telemetry.attempted(_record("retry"))
    values = _metric_values()
    assert sum(values["DeliveriesSucceeded"]) == 2.0
    assert sum(values["DeliveriesFailed"]) == 1.0
    assert values["DeliveryLatency"] == [10.0, 30.0, 42.0]
    lines = [r for r in caplog.records if r.getMessage() == "delivery attempt"]
    first = lines[0]
    assert first.correlation_id == "evt_1" and first.outcome == "delivered"  # type: ignore[attr-defined]
    # A success is logged at DEBUG (the delivery log holds it); a failure at INFO.
    assert [r.levelno for r in lines] == [logging.DEBUG, logging.DEBUG, logging.INFO]


def test_a_dead_letter_is_counted_and_logged_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = DeadLetter(
        delivery_id="dlv_1",
        event=shipment_event(),
        subscription_id="sub_1",
        merchant_id="merchant-a",
        attempts=8,
        last_status=500,
        last_error=None,
        first_attempt_at=NOW,
        last_attempt_at=NOW,
    )
    PowertoolsTelemetry().dead_lettered(dead)
    assert _metric_values()["DeliveriesDeadLettered"] == [1.0]
    [record] = caplog.records
    assert record.getMessage() == "delivery dead-lettered"
    assert "whsec_" not in json.dumps({k: str(v) for k, v in vars(record).items()})
