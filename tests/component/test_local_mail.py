"""The local stack's SMTP receiver (devstack/mail.py), where MiniStack's SES relays mail:
real SMTP on 127.0.0.1, the files it writes and the Mailbox that reads them back."""

from __future__ import annotations

import smtplib
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from devstack.mail import (
    ENVELOPE_FROM_HEADER,
    ENVELOPE_TO_HEADER,
    HOST,
    Mailbox,
    MailNotReceivedError,
    SmtpReceiver,
)
from devstack.stack import EMAIL_FROM_ADDRESS, free_port
from devstack.template import template

FROM = f"Parcelhooks <{EMAIL_FROM_ADDRESS}>"
TO = "comprador@example.com.br"
BCC = "auditoria@example.com"
SUBJECT = "Seu pedido foi entregue 📦"
TEXT = "Olá, Conceição! O pedido order-1001 foi entregue em São Paulo às 14h.\n"
HTML = "<p>Olá, Conceição! O pedido <b>order-1001</b> foi entregue em São Paulo.</p>\n"


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver(tmp_path / "mail", free_port())
    receiver.start()
    yield receiver
    receiver.stop()


def _message(subject: str = SUBJECT, to: str = TO) -> EmailMessage:
    message = EmailMessage()
    message["From"] = FROM
    message["To"] = to
    message["Subject"] = subject
    message.set_content(TEXT)
    message.add_alternative(HTML, subtype="html")
    return message


def _send(port: int, message: EmailMessage, to_addrs: list[str] | None = None) -> None:
    # local_hostname: no lookup of this machine's name for EHLO.
    with smtplib.SMTP(HOST, port, local_hostname="localhost", timeout=10) as smtp:
        smtp.send_message(message, to_addrs=to_addrs)


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) == 0


def test_a_text_and_html_message_is_stored_and_read_back_with_its_envelope(
    receiver: SmtpReceiver,
) -> None:
    _send(receiver.port, _message(), to_addrs=[TO, BCC])

    # The server answers 250 once the file is in place: nothing to wait for.
    [received] = Mailbox(receiver.mail_dir).messages()
    assert received["From"] == FROM
    assert received["To"] == TO
    assert received["Subject"] == SUBJECT
    assert received.get_content_type() == "multipart/alternative"
    text, html = received.get_body(("plain",)), received.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content() == TEXT
    assert html.get_content() == HTML
    assert received[ENVELOPE_FROM_HEADER] == f"<{EMAIL_FROM_ADDRESS}>"
    assert received[ENVELOPE_TO_HEADER] == f"{TO}, {BCC}"  # Bcc: only the envelope says so


def test_each_message_is_one_eml_file_named_by_time_and_number(
    receiver: SmtpReceiver,
) -> None:
    _send(receiver.port, _message("first"))
    _send(receiver.port, _message("second"))

    files = sorted(path.name for path in receiver.mail_dir.iterdir())
    assert len(files) == 2, files
    assert files[0].endswith("Z-0001.eml") and files[1].endswith("Z-0002.eml"), files
    assert [m["Subject"] for m in Mailbox(receiver.mail_dir).messages()] == ["first", "second"]


def test_wait_for_returns_the_matching_message_once_it_arrives(receiver: SmtpReceiver) -> None:
    _send(receiver.port, _message("not this one"))
    sender = threading.Thread(target=_send, args=(receiver.port, _message(to="late@example.com")))
    sender.start()

    found = Mailbox(receiver.mail_dir).wait_for(lambda m: m["To"] == "late@example.com", 10)

    sender.join()
    assert found["Subject"] == SUBJECT


def test_wait_for_says_what_arrived_when_nothing_matches(receiver: SmtpReceiver) -> None:
    _send(receiver.port, _message("Pedido a caminho"))

    with pytest.raises(MailNotReceivedError, match=r"1 received.*Pedido a caminho"):
        Mailbox(receiver.mail_dir).wait_for(lambda m: m["To"] == "nobody@example.com", 0.3)


def test_a_receiver_empties_its_folder_when_it_starts(tmp_path: Path) -> None:
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    (mail_dir / "20250101T000000.000000Z-0001.eml").write_bytes(b"Subject: last run\r\n\r\n")
    (mail_dir / "notes.txt").write_text("not ours")

    receiver = SmtpReceiver(mail_dir, free_port())
    receiver.start()
    receiver.stop()

    assert Mailbox(mail_dir).messages() == []
    assert (mail_dir / "notes.txt").exists()


def test_a_stopped_receiver_closes_its_port(tmp_path: Path) -> None:
    receiver = SmtpReceiver(tmp_path / "mail", free_port())
    receiver.start()
    assert _accepts(receiver.port)
    idle = socket.create_connection((HOST, receiver.port))  # a client still connected
    assert idle.recv(1024).startswith(b"220 ")

    receiver.stop()
    receiver.stop()  # a second stop (every stop path calls it) is harmless

    idle.close()
    assert not _accepts(receiver.port)


def test_the_verified_sender_is_the_templates_from_address() -> None:
    """devstack deploys with EmailFromAddress's default and verifies EMAIL_FROM_ADDRESS:
    were they to differ, every e-mail would be refused locally (MessageRejected)."""
    assert template()["Parameters"]["EmailFromAddress"]["Default"] == EMAIL_FROM_ADDRESS
