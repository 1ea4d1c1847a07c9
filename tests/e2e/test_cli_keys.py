"""`parcelhooks --local keys ...` against the deployed stack: a key works at once and
stops working when revoked (the local authorizer cache TTL is 0; 300 s in the cloud)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from devstack.stack import REGION, Deployment
from parcelhooks_cli.main import main


@pytest.fixture
def local_config(stack: Deployment, tmp_path: Path) -> Path:
    config = tmp_path / "local.json"
    config.write_text(
        json.dumps(
            {
                "aws_endpoint_url": stack.endpoint,
                "region": REGION,
                "stack_name": stack.stack_name,
            }
        )
    )
    return config


def _cli(config: Path, *args: str) -> int:
    return main(["--local", "--local-config", str(config), *args])


def test_keys_create_list_revoke(
    stack: Deployment, local_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(local_config, "keys", "create", "--role", "merchant", "--owner", "cli-shop") == 0
    key_id_line, key = capsys.readouterr().out.strip().splitlines()
    key_id = key_id_line.split()[0]
    assert key.startswith("phk_") and key_id.startswith("key_")

    listing = requests.get(
        f"{stack.api_url}/v1/subscriptions", headers={"authorization": f"Bearer {key}"}, timeout=30
    )
    assert listing.status_code == 200

    assert _cli(local_config, "keys", "list") == 0
    listed = capsys.readouterr().out
    assert key_id in listed and "cli-shop" in listed and key not in listed

    assert _cli(local_config, "keys", "revoke", key_id) == 0
    refused = requests.get(
        f"{stack.api_url}/v1/subscriptions", headers={"authorization": f"Bearer {key}"}, timeout=30
    )
    assert refused.status_code == 401
    assert _cli(local_config, "keys", "revoke", "key_unknown") == 1


def test_the_cli_says_how_to_start_the_local_stack_when_it_is_not_there(tmp_path: Path) -> None:
    assert _cli(tmp_path / "missing.json", "keys", "list") == 2
