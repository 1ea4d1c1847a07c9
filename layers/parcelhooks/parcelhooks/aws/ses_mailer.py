"""E-mail destinations: one SES SendEmail per delivery, its answer as the attempt's result.

SES's answer is read as a receiver's would be: accepted is a 200 (the excerpt names the
message id), and an error is its HTTP status and SES's error code, so throttling, an
outage and a rejected address are failures the retry schedule handles like any other.
Addresses in what is logged are masked (LGPD).
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from parcelhooks.core.attempts import AttemptResult, EmailPlan
from parcelhooks.core.deliveries import is_valid_status
from parcelhooks.core.personal_data import mask_email, masker_for

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient

ACCEPTED = 200
CHARSET = "UTF-8"


class SesMailer:
    def __init__(self, ses: SESClient, source: str, executor: Executor) -> None:
        self._ses = ses
        self._source = source
        self._executor = executor

    async def send(self, email: EmailPlan) -> AttemptResult:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._send, email)

    def _send(self, email: EmailPlan) -> AttemptResult:
        started = time.perf_counter()
        try:
            response = self._ses.send_email(
                Source=self._source, Destination={"ToAddresses": list(email.to)}, **_message(email)
            )
        except ClientError as error:
            return _refused(error, started)
        except BotoCoreError as error:
            # No answer at all (a connection failure, a timeout): retried like a receiver's.
            return AttemptResult(
                None,
                _elapsed_ms(started),
                error="ses_unreachable",
                response_excerpt=type(error).__name__,
            )
        to = ", ".join(mask_email(address) for address in email.to)
        return AttemptResult(
            ACCEPTED,
            _elapsed_ms(started),
            response_excerpt=f"accepted by Amazon SES as {response['MessageId']} for {to}",
        )


def _message(email: EmailPlan) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if email.text is not None:
        body["Text"] = {"Data": email.text, "Charset": CHARSET}
    if email.html is not None:
        body["Html"] = {"Data": email.html, "Charset": CHARSET}
    return {"Message": {"Subject": {"Data": email.subject, "Charset": CHARSET}, "Body": body}}


def _refused(error: ClientError, started: float) -> AttemptResult:
    code = error.response.get("Error", {}).get("Code", "Unknown")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return AttemptResult(
        status if isinstance(status, int) and is_valid_status(status) else None,
        _elapsed_ms(started),
        error=f"ses_{code}",
        # SES names the address it refused: masked, as every address we log.
        response_excerpt=_mask_addresses(error.response.get("Error", {}).get("Message", "")),
    )


def _mask_addresses(text: str) -> str:
    return masker_for(None)(text)[:500]


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
