"""`make run`: the whole stack on MiniStack, seeded, with a demo receiver.

Ctrl-C, SIGTERM or SIGHUP (to this process or to the `make` that started it) stops it all.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import suppress
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from devstack.mail import SmtpReceiver
from devstack.stack import (
    MAIL_DIR_NAME,
    REGION,
    ROOT,
    STOP_SIGNALS,
    Deployment,
    MiniStack,
    StackError,
    StopRequested,
    begin_stopping,
    deferred_stop,
    deploy,
    free_port,
    issue_key,
    key_works,
    log,
    stop_on_signals,
    stop_process_group,
    wait_until,
    write_json,
)
from parcelhooks.auth.portal import PortalAuth
from parcelhooks.aws.portal_table import PortalTable
from parcelhooks.core.api_keys import Role, Vocabulary

# Overridable so a test can run `make run` beside a developer's own (whose state is here).
STATE = Path(os.environ.get("PARCELHOOKS_STATE_DIR") or ROOT / ".parcelhooks")
# Not the e2e tests' build folder: their `sam build` there would empty ours mid-deploy.
# (sam keeps its build.toml beside the build folder.)
BUILD_DIR = STATE / "sam" / "build"
LOCAL_JSON = STATE / "local.json"
MAIL_DIR = STATE / MAIL_DIR_NAME
DEMO_JSON = STATE / "demo-subscription.json"
STACK_NAME = "parcelhooks-local"
DEMO_CARRIER = "demo-carrier"
DEMO_MERCHANT = "demo-merchant"
# Every shipment event, and the sweep's alerts (which "*" does not take).
DEMO_EVENT_TYPES = ["*", "shipment.stalled", "shipment.late"]
STALLED_SAMPLE = ROOT / "events" / "carrier" / "stalled_in_transit.json"
# Set by the Makefile's `run` recipe, which execs us as make's own child.
STOP_WITH_PARENT_ENV = "PARCELHOOKS_STOP_WITH_PARENT"
PARENT_POLL_S = 0.2
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _api(method: str, url: str, key: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise StackError(f"{method} {url}: {error.code} {error.read()[:500]!r}") from None


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def _keys(deployment: Deployment, previous: dict[str, Any]) -> tuple[str, str]:
    carrier, merchant = previous.get("carrier_key"), previous.get("merchant_key")
    if not (carrier and key_works(deployment, carrier)):
        # The samples in events/carrier/ send Correios' codes.
        carrier = issue_key(deployment, Role.CARRIER, DEMO_CARRIER, vocabulary=Vocabulary.CORREIOS)
        log("issued a new carrier key")
    if not (merchant and key_works(deployment, merchant)):
        merchant = issue_key(deployment, Role.MERCHANT, DEMO_MERCHANT)
        log("issued a new merchant key")
    return carrier, merchant


def _demo_subscription(api_url: str, merchant_key: str, receiver_url: str) -> str:
    """The demo subscription's secret, reusing the one from the last run if it still exists."""
    demo = _load(DEMO_JSON)
    if demo.get("url") == receiver_url and demo.get("id"):
        url = f"{api_url}/v1/subscriptions/{demo['id']}"
        if _api("GET", url, merchant_key) is not None:
            _api("PATCH", url, merchant_key, {"event_types": DEMO_EVENT_TYPES})
            return str(demo["secret"])
    created = _api(
        "POST",
        f"{api_url}/v1/subscriptions",
        merchant_key,
        {
            "url": receiver_url,
            "event_types": DEMO_EVENT_TYPES,
            "description": "make run demo receiver",
        },
    )
    write_json(DEMO_JSON, {"id": created["id"], "url": receiver_url, "secret": created["secret"]})
    log(f"created demo subscription {created['id']} -> {receiver_url}")
    return str(created["secret"])


def _start_receiver(port: int, secret: str | None) -> subprocess.Popen[bytes]:
    """`parcelhooks listen` on the port: checking the signatures of `secret`, or none."""
    env = {k: v for k, v in os.environ.items() if k != "PARCELHOOKS_WEBHOOK_SECRET"}
    env["PYTHONUNBUFFERED"] = "1"
    if secret is not None:
        env["PARCELHOOKS_WEBHOOK_SECRET"] = secret
    return subprocess.Popen(
        [sys.executable, "-m", "parcelhooks_cli.main", "listen", "--port", str(port)],
        env=env,
        start_new_session=True,
    )


def _curl(api_url: str, carrier_key: str) -> str:
    event = (
        '{"carrier_event_id": "demo-\'"$(date +%s%N)"\'", "merchant_id": "demo-merchant", '
        '"tracking_code": "QB123456785BR", "status": "delivered", '
        '"occurred_at": "\'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"\'", '
        '"description": "Objeto entregue ao destinatário", "order_id": "order-1001", '
        '"location": {"city": "São Paulo", "state": "SP", "country": "BR"}, '
        # The shop's own values, passed through to every webhook: what the WhatsApp and
        # e-mail presets address the buyer by.
        '"metadata": {"buyer_name": "Maria", "buyer_phone": "+55 11 98765-4321", '
        '"buyer_email": "maria@example.com"}}'
    )
    return (
        f"curl -sS -w '\\n' -X POST '{api_url}/v1/events' \\\n"
        f"  -H 'Authorization: Bearer {carrier_key}' \\\n"
        f"  -H 'content-type: application/json' \\\n"
        f"  -d '{event}'"
    )


def _stalled_hint() -> str:
    return (
        "\n\nA shipment that has not moved for 10 days: the sweep (every minute here) tells "
        "the demo receiver `shipment.stalled` (and `shipment.late`) within a minute:\n\n"
        f"  {_shown_cli()} --local send {STALLED_SAMPLE.relative_to(ROOT)}"
    )


def _shown_cli() -> str:
    cli = Path(sys.executable).parent / "parcelhooks"
    return _shown(cli).rstrip("/")


def _print_mail(message: EmailMessage) -> None:
    """One line per e-mail received, among the webhooks the demo receiver prints."""
    with suppress(OSError):
        print(f"e-mail from {message['From']} to {message['To']}: {message['Subject']}", flush=True)


def _shown(path: Path) -> str:
    return f"{path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}/"


def _caught_signals(pid: int) -> set[int]:
    """The signals process `pid` has a handler for (Linux; empty elsewhere or once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return set()
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            mask = int(line.split()[1], 16)
            return {signum for signum in range(1, 65) if mask >> (signum - 1) & 1}
    return set()


def _stop_with_parent() -> None:
    """Stop, as if signalled, when make (our parent) dies or begins to die.

    make passes SIGTERM on to us, but on a SIGHUP or SIGINT sent to it alone it only waits
    for its children before dying, and they are never told. Its handler first puts that
    signal back to the default, so make no longer catching a signal it caught when we
    started is how we see it; make dying shows as a new parent, and through the kernel's
    parent-death signal at once.
    """
    parent = os.getppid()
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    watched = _caught_signals(parent) & set(STOP_SIGNALS)
    main_thread = threading.main_thread().ident
    assert main_thread is not None

    def watch() -> None:
        while True:
            dropped = watched - _caught_signals(parent)
            if os.getppid() != parent or dropped:
                # To the main thread, so a blocking call there is interrupted.
                signal.pthread_kill(main_thread, min(dropped, default=signal.SIGTERM))
                return
            time.sleep(PARENT_POLL_S)

    threading.Thread(target=watch, name="stop-with-parent", daemon=True).start()


PORTAL_LINK_TTL = timedelta(hours=8)
PORTAL_LINK_TTL_TEXT = "8 hours"


def _portal_link(deployment: Deployment) -> str:
    table = deployment.resource("dynamodb").Table(deployment.outputs["PortalTableName"])
    link = PortalAuth(PortalTable(table)).issue_link(
        DEMO_MERCHANT, ttl=PORTAL_LINK_TTL, issued_by="ops"
    )
    return f"{deployment.api_url}/portal/#link={link.token}"


def main() -> int:
    port = int(os.environ.get("PORT", "4566"))
    receiver_port = int(os.environ.get("RECEIVER_PORT", "8787"))
    # For destinations a user makes (a WhatsApp or ERP preset pointed here): prints anything.
    open_port = int(os.environ.get("OPEN_RECEIVER_PORT", str(receiver_port + 1)))
    started = time.monotonic()
    # A new port each run: SES reads SMTP_HOST at every send, and nothing else needs it.
    mail_receiver = SmtpReceiver(MAIL_DIR, free_port(), on_message=_print_mail)
    ministack = MiniStack(port=port, workdir=STATE, persist=True, mail_receiver=mail_receiver)
    receiver: subprocess.Popen[bytes] | None = None
    open_receiver: subprocess.Popen[bytes] | None = None
    try:
        stop_on_signals()
        if os.environ.get(STOP_WITH_PARENT_ENV) == "1":
            _stop_with_parent()
        log(f"starting MiniStack on 127.0.0.1:{port}, SES mail to {mail_receiver.address}")
        ministack.start()
        log("sam build + sam deploy of template.yaml")
        deployment = deploy(ministack, STACK_NAME, build_dir=BUILD_DIR)
        carrier_key, merchant_key = _keys(deployment, _load(LOCAL_JSON))
        receiver_url = f"http://127.0.0.1:{receiver_port}/webhooks"
        secret = _demo_subscription(deployment.api_url, merchant_key, receiver_url)
        with deferred_stop():
            receiver = _start_receiver(receiver_port, secret)
            open_receiver = _start_receiver(open_port, None)
        write_json(
            LOCAL_JSON,
            {
                "api_url": deployment.api_url,
                "aws_endpoint_url": deployment.endpoint,
                "region": REGION,
                "stack_name": STACK_NAME,
                "carrier_key": carrier_key,
                "merchant_id": DEMO_MERCHANT,
                "merchant_key": merchant_key,
                "demo_receiver_url": receiver_url,
                "open_receiver_url": f"http://127.0.0.1:{open_port}/",
                "mail_dir": str(deployment.mail_dir) if deployment.mail_dir else None,
            },
        )
        wait_until(lambda: receiver is None or receiver.poll() is None, 5, "the demo receiver")
        log(f"ready in {time.monotonic() - started:.1f}s; settings in {LOCAL_JSON}")
        print("\nSend a carrier event (paste this in another terminal):\n", flush=True)
        print(_curl(deployment.api_url, carrier_key) + _stalled_hint(), flush=True)
        print(
            f"\nThe merchant portal, signed in as {DEMO_MERCHANT} (the link works once, for "
            f"{PORTAL_LINK_TTL_TEXT}; `parcelhooks --local portal-link --merchant "
            f"{DEMO_MERCHANT}` makes another):\n\n  {_portal_link(deployment)}",
            flush=True,
        )
        if deployment.mail_dir is not None:
            print(
                f"\nE-mail sent through SES lands in {_shown(deployment.mail_dir)} "
                f"(SMTP receiver on {mail_receiver.address}), one .eml file each.",
                flush=True,
            )
        print(
            f"\nDestinations you create in the portal can point at http://127.0.0.1:{open_port}/ "
            "(any path): that receiver prints whatever arrives, signed or not, and answers 204.",
            flush=True,
        )
        print(
            "\nThe demo receivers print each webhook below, and each e-mail as one line. "
            "Ctrl-C stops everything.\n",
            flush=True,
        )
        while receiver.poll() is None:
            time.sleep(0.5)
        log("the demo receiver exited")
        return 1
    except StopRequested as stop:
        log(f"{signal.Signals(stop.signum).name}: stopping")
        # Ctrl-C is the ordinary way to stop; the others report how we ended.
        return 0 if stop.signum == signal.SIGINT else 128 + stop.signum
    except StackError as error:
        log(str(error))
        return 1
    finally:
        begin_stopping()
        try:
            for process in (receiver, open_receiver):
                if process is not None:
                    stop_process_group(process)
        finally:
            log("stopping MiniStack")
            ministack.stop()


if __name__ == "__main__":
    sys.exit(main())
