"""E-mail on the local stack: the SMTP receiver MiniStack's SES relays mail to, and a reader
of what it received.

Each message is one file, `<mail_dir>/<UTC timestamp>-<n>.eml`: the bytes as received over
SMTP, after two headers that record the envelope (`X-Envelope-From`, `X-Envelope-To`, as a
delivery agent adds Return-Path), so Bcc recipients show too and any mail client opens it.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"
# Given to the server so it never looks up this machine's name (getfqdn can hang on DNS).
SERVER_HOSTNAME = "parcelhooks-mail.localhost"
ENVELOPE_FROM_HEADER = "X-Envelope-From"
ENVELOPE_TO_HEADER = "X-Envelope-To"
MESSAGE_SUFFIX = ".eml"
WAIT_TIMEOUT_S = 15.0
POLL_INTERVAL_S = 0.1

OnMessage = Callable[[EmailMessage], None]


class MailNotReceivedError(TimeoutError):
    pass


def read_message(path: Path) -> EmailMessage:
    """A stored message, its CRLFs read as line feeds, as Python's `mailbox` reads a Maildir
    (an 8bit part's get_content() would otherwise keep the carriage returns)."""
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes().replace(b"\r\n", b"\n"))


class _MailDirHandler:
    """aiosmtpd's handler: each message accepted becomes one file, written whole (renamed
    into place) so a reader polling the folder never parses half a message."""

    def __init__(self, mail_dir: Path, on_message: OnMessage | None) -> None:
        self.mail_dir = mail_dir
        self.on_message = on_message
        self.numbers = itertools.count(1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        path = self._store(envelope)
        if self.on_message is not None:
            self.on_message(read_message(path))
        return "250 Message accepted for delivery"

    def _store(self, envelope: Envelope) -> Path:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode()
        recorded = (
            f"{ENVELOPE_FROM_HEADER}: <{envelope.mail_from or ''}>\r\n"
            f"{ENVELOPE_TO_HEADER}: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        path = self.mail_dir / f"{stamp}-{next(self.numbers):04d}{MESSAGE_SUFFIX}"
        partial = path.with_name(f".{path.name}.partial")
        partial.write_bytes(recorded + content)
        os.replace(partial, path)
        return path


class SmtpReceiver:
    """An SMTP server on 127.0.0.1:<port>, run by a thread of this process (so it cannot
    outlive it), that stores every message it accepts in `mail_dir`, emptied when it starts.
    `on_message` is called with each one, in the server's thread."""

    def __init__(self, mail_dir: Path, port: int, on_message: OnMessage | None = None) -> None:
        self.mail_dir = mail_dir
        self.port = port
        self._controller = Controller(
            _MailDirHandler(mail_dir, on_message),
            hostname=HOST,
            port=port,
            server_hostname=SERVER_HOSTNAME,
        )
        self.running = False

    @property
    def address(self) -> str:
        """`host:port`, as MiniStack's SMTP_HOST takes it."""
        return f"{HOST}:{self.port}"

    def start(self) -> None:
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        for stale in [*self.mail_dir.glob(f"*{MESSAGE_SUFFIX}"), *self.mail_dir.glob(".*.partial")]:
            stale.unlink()
        self.running = True  # before the thread starts: stop() must follow a start cut short
        self._controller.start()

    def stop(self) -> None:
        """Close the port and end the server's thread; once, whatever start() got to."""
        if not self.running:
            return
        self.running = False
        self._controller.stop(no_assert=True)


class Mailbox:
    """What a receiver stored in `mail_dir`, oldest first, parsed with `email.policy.default`."""

    def __init__(self, mail_dir: Path) -> None:
        self.mail_dir = mail_dir

    def messages(self) -> list[EmailMessage]:
        return [read_message(path) for path in sorted(self.mail_dir.glob(f"*{MESSAGE_SUFFIX}"))]

    def wait_for(
        self, predicate: Callable[[EmailMessage], bool], timeout_s: float = WAIT_TIMEOUT_S
    ) -> EmailMessage:
        """The oldest message `predicate` accepts, waiting up to `timeout_s` for one."""
        deadline = time.monotonic() + timeout_s
        while True:
            received = self.messages()
            for message in received:
                if predicate(message):
                    return message
            if time.monotonic() >= deadline:
                subjects = [str(message["Subject"]) for message in received]
                raise MailNotReceivedError(
                    f"no matching message in {self.mail_dir} within {timeout_s:g}s; "
                    f"{len(received)} received, subjects: {subjects}"
                )
            time.sleep(POLL_INTERVAL_S)
