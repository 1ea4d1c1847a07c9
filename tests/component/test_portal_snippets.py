"""The Node.js verification code the portal shows beside a signing secret works with the
`standardwebhooks` npm package (installed by the Makefile beside axe-core): it takes a
webhook signed by the fan-out's own signing code and refuses one signed with another secret."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from parcelhooks.api.portal_assets import PORTAL_DIR
from parcelhooks.delivery.signing import generate_secret, webhook_headers

NODE_MODULES = Path(__file__).resolve().parents[2] / ".venvs" / "node" / "node_modules"
BODY = json.dumps({"type": "shipment.delivered", "data": {"tracking_code": "QB123456785BR"}})


def _node_now() -> int:
    """Node's own clock (the library checks the timestamp against it; the test tier that runs
    Python's clock ahead would otherwise make every signature "too new")."""
    ran = subprocess.run(
        ["node", "-e", "console.log(Math.floor(Date.now() / 1000))"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return int(ran.stdout)


def _signed(secrets: list[str], body: str = BODY) -> dict[str, str]:
    return webhook_headers(secrets, "msg_1", _node_now(), body.encode())


def test_the_node_code_takes_a_good_webhook_and_refuses_a_forged_one(tmp_path: Path) -> None:
    secret = generate_secret()
    module = tmp_path / "verify.js"
    module.write_text((PORTAL_DIR / "verify-node.txt").read_text(encoding="utf-8"))
    check = (
        "const { verifiedEvent } = require(process.argv[1]);"
        "const [body, good, bad] = JSON.parse(process.argv[2]);"
        "const event = verifiedEvent(body, good);"
        "let refused = false; try { verifiedEvent(body, bad); } catch { refused = true; }"
        "console.log(JSON.stringify({ code: event.data.tracking_code, refused }));"
    )
    arguments = json.dumps([BODY, _signed([secret]), _signed([generate_secret()])])
    ran = subprocess.run(
        ["node", "-e", check, str(module), arguments],
        env={**os.environ, "PARCELHOOKS_WEBHOOK_SECRET": secret, "NODE_PATH": str(NODE_MODULES)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"code": "QB123456785BR", "refused": True}
