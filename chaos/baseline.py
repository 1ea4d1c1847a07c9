"""The bare pipeline parcelhooks is measured against: one SQS queue, one function that POSTs.

Created with boto3 rather than a second SAM template: it is one queue, one function and
one mapping, made in well under a second on the MiniStack the stack runs on, with no
`sam build`/`sam deploy` of its own, and nothing in it (no layer, no table, no IAM of
note) that a template would check. Its event source gets the fan-out's batch size and
MaximumConcurrency, so the only difference left is the work each does per message.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from devstack.stack import Deployment, wait_until
from devstack.template import parameter_default

FUNCTION_NAME = "parcelhooks-chaos-baseline"
QUEUE_NAME = "parcelhooks-chaos-baseline"
ROLE_ARN = "arn:aws:iam::000000000000:role/parcelhooks-chaos-baseline"
BATCH_SIZE = 10
# The fan-out's events queue has this MaximumConcurrency (template.yaml).
MAX_CONCURRENCY = int(parameter_default("FanoutMaxConcurrency"))
MEMORY_MB = 1024
SQS_BATCH = 10
READY_TIMEOUT_S = 30.0

# Everything the baseline does: POST the message's body to the URL in it, on a kept-alive
# connection per receiver (as the fan-out keeps its own), and let a failure fail the batch.
HANDLER_SOURCE = """\
import http.client
import json
from urllib.parse import urlsplit

_connections = {}


def _post(url, body):
    parts = urlsplit(url)
    key = (parts.hostname, parts.port)
    connection = _connections.get(key)
    if connection is None:
        connection = _connections[key] = http.client.HTTPConnection(*key, timeout=10)
    try:
        connection.request("POST", parts.path, body=body,
                           headers={"content-type": "application/json"})
        connection.getresponse().read()
    except Exception:
        _connections.pop(key, None).close()
        raise


def handler(event, context):
    for record in event["Records"]:
        _post(json.loads(record["body"])["url"], record["body"].encode())
"""


@dataclass(frozen=True)
class Baseline:
    """The deployed baseline: where to send its messages."""

    queue_url: str
    function_name: str


def handler_zip() -> bytes:
    """The function's code as a deployment package."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("app.py", HANDLER_SOURCE)
    return buffer.getvalue()


def deploy_baseline(deployment: Deployment) -> Baseline:
    """Create the queue, the function and its event source mapping on MiniStack."""
    sqs = deployment.client("sqs")
    awslambda = deployment.client("lambda")
    queue_url: str = sqs.create_queue(QueueName=QUEUE_NAME, Attributes={"VisibilityTimeout": "15"})[
        "QueueUrl"
    ]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    awslambda.create_function(
        FunctionName=FUNCTION_NAME,
        Runtime="python3.13",
        Role=ROLE_ARN,
        Handler="app.handler",
        Code={"ZipFile": handler_zip()},
        MemorySize=MEMORY_MB,
        Timeout=15,
    )
    wait_until(lambda: _active(awslambda), READY_TIMEOUT_S, "the baseline function")
    awslambda.create_event_source_mapping(
        EventSourceArn=queue_arn,
        FunctionName=FUNCTION_NAME,
        BatchSize=BATCH_SIZE,
        ScalingConfig={"MaximumConcurrency": MAX_CONCURRENCY},
    )
    return Baseline(queue_url, FUNCTION_NAME)


def message_body(url: str, event_id: str, payload: dict[str, Any]) -> str:
    """A baseline message: the receiver's URL, the event id to match arrivals, the event."""
    return json.dumps({"url": url, "event_id": event_id, "data": payload})


def event_id_of(body: bytes) -> str:
    """The event id a baseline POST carries (its body is the message)."""
    document = json.loads(body)
    return str(document["event_id"]) if isinstance(document, dict) else ""


def send_messages(sqs: Any, queue_url: str, bodies: Sequence[str]) -> None:
    """SendMessageBatch in tens; raises if SQS refuses any (the run would be void)."""
    for start in range(0, len(bodies), SQS_BATCH):
        chunk = bodies[start : start + SQS_BATCH]
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)]
        failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed", [])
        if failed:
            raise RuntimeError(f"SQS refused baseline messages: {failed}")


def _active(awslambda: Any) -> bool:
    state = awslambda.get_function_configuration(FunctionName=FUNCTION_NAME).get("State")
    return state in (None, "Active")
