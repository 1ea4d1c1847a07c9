"""POST /v1/events: a carrier's status events in, queued for fan-out, 202 out."""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from parcelhooks.api.edge import (
    caller_of,
    install_error_handlers,
    json_response,
    refuse_non_json,
    refuse_unroutable_path,
    request_body,
)
from parcelhooks.core.api_keys import Role
from parcelhooks.core.observability import logger, metrics
from parcelhooks.ingest.events import parse_events
from parcelhooks.ingest.telemetry import PowertoolsIngestTelemetry
from parcelhooks.ingest.unmapped import report_unmapped
from parcelhooks.wiring import ingest as wiring

# A missing or malformed setting fails the cold start with its name, not the first request.
wiring.settings()

app = APIGatewayRestResolver()
install_error_handlers(app)
telemetry = PowertoolsIngestTelemetry()


@app.post("/v1/events")
def post_events() -> Response[str]:
    carrier = caller_of(app, Role.CARRIER)
    events = parse_events(
        request_body(app.current_event.raw_event),
        vocabulary=carrier.vocabulary,
        window=wiring.settings().event_window,
    )
    wiring.merchant_gate().check(carrier.owner_id, carrier.merchants, events)
    result = wiring.ingest().accept(carrier.owner_id, events)
    report_unmapped(carrier.owner_id, events, result, telemetry)
    logger.info(
        "events accepted",
        carrier=carrier.owner_id,
        accepted=result.accepted,
        duplicates=result.duplicates,
    )
    return json_response(202, result.model_dump_json())


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return refuse_unroutable_path(event) or refuse_non_json(event) or app.resolve(event, context)
