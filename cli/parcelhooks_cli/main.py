"""Entry point of the `parcelhooks` command."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from parcelhooks.auth.keys import Role
from parcelhooks.aws.api_keys_table import ApiKeysTable
from parcelhooks_cli.keys import create_key
from parcelhooks_cli.listen import serve
from parcelhooks_cli.target import LOCAL_CONFIG, Target, TargetError, resolve_target

SECRET_ENV = "PARCELHOOKS_WEBHOOK_SECRET"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parcelhooks", description=__doc__)
    parser.add_argument("--local", action="store_true", help="act on the local stack (make run)")
    parser.add_argument("--stack", help="CloudFormation stack name (default: parcelhooks)")
    parser.add_argument(
        "--local-config",
        type=Path,
        default=LOCAL_CONFIG,
        help=f"the local stack's settings (default: {LOCAL_CONFIG})",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    listen = commands.add_parser("listen", help="receive webhooks locally and verify them")
    listen.add_argument("--host", default="127.0.0.1")
    listen.add_argument("--port", type=int, default=8787)
    listen.add_argument(
        "--secret", default=os.environ.get(SECRET_ENV), help=f"whsec_... (or ${SECRET_ENV})"
    )
    listen.add_argument("--status", type=int, default=204, help="status to answer with")

    keys = commands.add_parser("keys", help="API keys").add_subparsers(dest="action", required=True)
    create = keys.add_parser("create", help="issue a key; it is printed once")
    create.add_argument("--role", choices=[r.value for r in Role], required=True)
    create.add_argument("--owner", required=True, help="carrier or merchant id")
    create.add_argument("--description")
    create.add_argument(
        "--merchants",
        help="carrier keys: the only merchant ids it may send for, comma-separated "
        "(default: any merchant)",
    )
    keys.add_parser("list", help="list keys (never the keys themselves)")
    revoke = keys.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    return parser


def _keys_table(target: Target) -> ApiKeysTable:
    name = target.outputs()["ApiKeysTableName"]
    return ApiKeysTable(target.resource("dynamodb").Table(name))


def _keys(args: argparse.Namespace) -> int:
    table = _keys_table(resolve_target(args.local, args.stack, args.local_config))
    if args.action == "create":
        merchants = None if args.merchants is None else _id_list(args.merchants)
        try:
            key, record = create_key(
                table, Role(args.role), args.owner, args.description, merchants
            )
        except ValueError as error:
            print(f"parcelhooks: {error}", file=sys.stderr)
            return 2
        scope = f" for {','.join(record.merchants)}" if record.merchants is not None else ""
        print(f"{record.key_id} {record.role.value} {record.owner_id}{scope}")
        print(key)
        print("Store the key now: it cannot be shown again.", file=sys.stderr)
        return 0
    if args.action == "list":
        for record in sorted(table.all(), key=lambda r: r.created_at):
            state = f"revoked {record.revoked_at:%Y-%m-%d}" if record.revoked_at else "active"
            scope = f"  merchants: {','.join(record.merchants)}" if record.merchants else ""
            print(f"{record.key_id}  {record.role.value:8}  {record.owner_id:24}  {state}{scope}")
        return 0
    if not table.revoke(args.key_id, datetime.now(UTC)):
        print(f"no key {args.key_id}", file=sys.stderr)
        return 1
    print(f"revoked {args.key_id}")
    return 0


def _id_list(text: str) -> list[str]:
    return sorted({part.strip() for part in text.split(",") if part.strip()})


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "listen":
            serve(args.host, args.port, args.secret, args.status)
            return 0
        return _keys(args)
    except TargetError as error:
        print(f"parcelhooks: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
