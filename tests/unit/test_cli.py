"""The `parcelhooks` command where it needs no AWS and no network: local options in either
position, `send` reading and stamping event files, and refusing what it cannot send.
(Against moto and a loopback receiver: tests/component/test_cli.py.)"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from parcelhooks_cli.main import main
from parcelhooks_cli.send import CARRIER_KEY_ENV, read_event_file
from testkit.factories import EVENTS_DIR


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("position", ["before", "after"], ids=["--local before", "--local after"])
def test_local_options_are_taken_in_either_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], position: str
) -> None:
    local = ["--local", "--local-config", str(tmp_path / "missing.json")]
    argv = [*local, "keys", "list"] if position == "before" else ["keys", "list", *local]
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert "missing.json not found: start the local stack with `make run`" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("written", "sent"),
    [
        ("now", "2026-11-28T12:00:00+00:00"),
        ("now-90m", "2026-11-28T10:30:00+00:00"),
        ("now-4h", "2026-11-28T08:00:00+00:00"),
        ("now+1d", "2026-11-29T12:00:00+00:00"),
        ("now-9999d", "1999-07-14T12:00:00+00:00"),
        ("now-10000d", "now-10000d"),  # not ours to read: ingest refuses it
        ("now - 1h", "now - 1h"),
        ("Now", "Now"),
        ("yesterday", "yesterday"),
        ("2026-11-28T09:15:00-03:00", "2026-11-28T09:15:00-03:00"),
    ],
)
def test_send_reads_now_and_an_offset_in_minutes_hours_or_days(
    tmp_path: Path, now: datetime, written: str, sent: str
) -> None:
    event = {"occurred_at": written, "estimated_delivery": written, "description": "now"}
    sample = tmp_path / "event.json"
    sample.write_text(json.dumps({"events": [event]}))
    [stamped] = json.loads(read_event_file(str(sample), now=now))["events"]
    assert stamped == {"occurred_at": sent, "estimated_delivery": sent, "description": "now"}


def test_send_stamps_a_raw_correios_event_as_rastro_writes_its_times(
    tmp_path: Path, now: datetime
) -> None:
    sample = tmp_path / "rastro.json"
    sample.write_text(json.dumps({"correios": {"dtHrCriado": "now", "dtPrevista": "now+1d"}}))
    stamped = json.loads(read_event_file(str(sample), now=now))["correios"]
    # Brasília time, without an offset.
    assert stamped == {"dtHrCriado": "2026-11-28T09:00:00", "dtPrevista": "2026-11-29T09:00:00"}


def test_send_refuses_a_file_that_is_not_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    code, _, err = _run(capsys, "send", str(bad), "--api-url", "http://127.0.0.1:1", "--key", "k")
    assert code == 2 and "bad.json is not JSON" in err
    code, _, err = _run(capsys, "send", str(tmp_path / "absent.json"), "--key", "k")
    assert code == 2 and "cannot read" in err


def test_send_without_a_key_says_where_to_put_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CARRIER_KEY_ENV, raising=False)
    sample = str(EVENTS_DIR / "carrier" / "delivered.json")
    code, _, err = _run(capsys, "send", sample, "--api-url", "http://127.0.0.1:1")
    assert code == 2 and f"no carrier key: pass --key or set ${CARRIER_KEY_ENV}" in err
