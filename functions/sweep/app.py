"""The stalled/late sweep, run on a schedule: tells each shipment's alerts once."""

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parcelhooks.core.observability import logger
from parcelhooks.wiring import sweep as wiring

# A missing or malformed setting fails the cold start with its name, not the first run.
wiring.settings()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A scheduled event's `time` is the run's scheduled time (UTC): what is due then.
    scheduled = event.get("time")
    now = datetime.fromisoformat(scheduled) if isinstance(scheduled, str) else None
    result = wiring.sweep().run(now)
    return {
        "looked_at": result.looked_at,
        "told": result.told,
        "refiled": result.refiled,
        "changed_meanwhile": result.changed_meanwhile,
    }
