"""The Lambda events in events/lambda are what the functions really accept."""

import json
from datetime import UTC, datetime

import pytest
import time_machine

from testkit.factories import EVENTS_DIR, LambdaContextStub, load_function

LAMBDA_EVENTS = EVENTS_DIR / "lambda"


@pytest.mark.usefixtures("moto_stack")
def test_the_api_gateway_sample_is_accepted_by_ingest() -> None:
    event = json.loads((LAMBDA_EVENTS / "apigw-post-events.json").read_text())
    # A recorded request: replayed at the time API Gateway received it, as ingest checks
    # occurred_at against the time of the request.
    received = datetime.fromtimestamp(event["requestContext"]["requestTimeEpoch"] / 1000, UTC)
    with time_machine.travel(received):
        response = load_function("ingest").handler(event, LambdaContextStub())
    assert response["statusCode"] == 202
    assert json.loads(response["body"])["accepted"] == 1
