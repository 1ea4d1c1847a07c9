"""Ops' redrive (IAM only): matching dead letters back into the pipeline, the rest untouched."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from parcelhooks.core.errors import details_from_validation
from parcelhooks.core.observability import logger
from parcelhooks.ops.redrive import RedriveRequest
from parcelhooks.wiring import redrive as wiring

# A missing or malformed setting fails the cold start with its name, not the first request.
wiring.settings()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        request = RedriveRequest.model_validate(event)
    except ValidationError as error:
        details = details_from_validation(error)
        return {
            "error": {"code": "validation_failed", "message": "bad payload", "details": details}
        }
    result = wiring.redrive().run(request)
    logger.info(
        "redrive",
        request=request.model_dump(mode="json"),
        result=result.model_dump(exclude={"moved_ids", "skipped_ids"}),
    )
    return result.model_dump(mode="json")
