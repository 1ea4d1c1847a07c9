"""Logs and EMF metrics of ingest (the Powertools side of ingest/unmapped.py's port)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from parcelhooks.core.api_keys import Vocabulary
from parcelhooks.core.observability import NAMESPACE, logger, metrics
from parcelhooks.ingest.events import CarrierEventIn


class PowertoolsIngestTelemetry:
    """`UnmappedCarrierStatus` counts events queued with a code we do not know.

    The code is a field of the log line, not a metric dimension: carriers choose it, and
    every distinct dimension value would be a custom metric of its own (and its own bill).
    The vocabulary is a dimension (`UnmappedCarrierStatusByVocabulary`): there are a few,
    and they are ours. Find the codes with Logs Insights:
    `filter message = "unmapped carrier status"`.
    """

    def unmapped_carrier_status(
        self, carrier: str, vocabulary: Vocabulary, event: CarrierEventIn
    ) -> None:
        metrics.add_metric("UnmappedCarrierStatus", MetricUnit.Count, 1)
        with single_metric(
            name="UnmappedCarrierStatusByVocabulary",
            unit=MetricUnit.Count,
            value=1,
            namespace=NAMESPACE,
        ) as metric:
            metric.add_dimension(name="vocabulary", value=vocabulary.value)
        raw = event.carrier_status
        logger.warning(
            "unmapped carrier status",
            carrier=carrier,
            vocabulary=vocabulary.value,
            carrier_status_type=raw.type if raw else None,
            carrier_status_code=raw.code if raw else None,
            carrier_status_description=raw.description if raw else None,
            carrier_event_id=event.carrier_event_id,
            merchant_id=event.merchant_id,
        )
