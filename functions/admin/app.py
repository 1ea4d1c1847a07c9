"""The merchant API: /v1/subscriptions, scoped to the calling key's merchant."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from parcelhooks import wiring
from parcelhooks.api import caller_of, install_error_handlers, json_response
from parcelhooks.keys import Role
from parcelhooks.models import SubscriptionIn, SubscriptionOut, SubscriptionPage
from parcelhooks.observability import logger

app = APIGatewayRestResolver(enable_validation=True)
install_error_handlers(app)


def _merchant() -> str:
    return caller_of(app, Role.MERCHANT).owner_id


@app.post("/v1/subscriptions")
def create_subscription(subscription: SubscriptionIn) -> Response[str]:
    created = wiring.subscriptions().create(_merchant(), subscription)
    return json_response(201, created.model_dump_json())


@app.get("/v1/subscriptions")
def list_subscriptions(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> SubscriptionPage:
    return wiring.subscriptions().list(_merchant(), limit, cursor)


@app.get("/v1/subscriptions/<subscription_id>")
def get_subscription(subscription_id: str) -> SubscriptionOut:
    return wiring.subscriptions().get(_merchant(), subscription_id)


@app.delete("/v1/subscriptions/<subscription_id>")
def delete_subscription(subscription_id: str) -> Response[str]:
    wiring.subscriptions().delete(_merchant(), subscription_id)
    return Response(status_code=204, body="")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
