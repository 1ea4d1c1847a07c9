"""`parcelhooks send FILE|-`: post a carrier event file to the ingest API, as a carrier would."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import requests

from parcelhooks_cli.errors import (
    EXIT_CANNOT_RUN,
    EXIT_FAILED,
    CommandFailed,
    Problem,
    problem_from_error_shape,
)

CARRIER_KEY_ENV = "PARCELHOOKS_CARRIER_KEY"
TIMEOUT_S = 30


def read_event_file(name: str) -> bytes:
    """The file's bytes (stdin for `-`), once we know they are JSON: sent as they are."""
    try:
        raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as error:
        raise CommandFailed(Problem("bad_input", f"cannot read {name}: {error.strerror}")) from None
    try:
        json.loads(raw)
    except ValueError as error:
        problem = Problem("bad_input", f"{name} is not JSON: {error}", EXIT_CANNOT_RUN)
        raise CommandFailed(problem) from None
    return raw


def post_events(api_url: str, carrier_key: str, body: bytes) -> dict[str, Any]:
    """POST {api_url}/v1/events; the 202 answer, or CommandFailed with the error shape."""
    response = requests.post(
        f"{api_url.rstrip('/')}/v1/events",
        data=body,
        headers={"authorization": f"Bearer {carrier_key}", "content-type": "application/json"},
        timeout=TIMEOUT_S,
    )
    try:
        answer: Any = response.json()
    except ValueError:
        answer = None
    if not response.ok:
        fallback = response.text[:200] or response.reason
        problem = problem_from_error_shape(answer, fallback)
        message = f"ingest answered {response.status_code}: {problem.message}"
        raise CommandFailed(dataclasses.replace(problem, message=message), answer)
    if not isinstance(answer, dict):
        message = f"ingest answered {response.status_code} without a JSON object"
        raise CommandFailed(Problem("bad_answer", message, EXIT_FAILED))
    return answer
