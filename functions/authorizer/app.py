"""REQUEST authorizer: a bearer key's hash → Allow for its role's routes, with role and owner."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parcelhooks.auth.policy import UnauthorizedError, authorize
from parcelhooks.core.observability import logger
from parcelhooks.wiring import authorizer as wiring

# A missing or malformed setting fails the cold start with its name, not the first request.
wiring.settings()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        return authorize(event.get("headers"), event["methodArn"], wiring.api_keys().find)
    except UnauthorizedError:
        # This exact message is how a Lambda authorizer tells API Gateway to answer 401.
        raise Exception("Unauthorized") from None
