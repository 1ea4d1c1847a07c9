"""parcelhooks: ops for the parcelhooks stack - keys, dead-letter queues, test sends, a receiver.

Global options (--local, --stack, --local-config, --json) go anywhere on the line.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from parcelhooks.core.api_keys import Role, Vocabulary
from parcelhooks.core.statuses import EVENT_TYPES, TEST_EVENT_TYPE
from parcelhooks.ops.redrive import MAX_PER_RUN
from parcelhooks_cli import commands
from parcelhooks_cli.errors import EXPECTED_ERRORS, CommandFailed, explain
from parcelhooks_cli.output import Output
from parcelhooks_cli.send import CARRIER_KEY_ENV
from parcelhooks_cli.target import LOCAL_CONFIG

SECRET_ENV = "PARCELHOOKS_WEBHOOK_SECRET"
type Parents = list[argparse.ArgumentParser]
# What each command runs: (parsed arguments, output) -> exit code.
type Handler = Callable[[argparse.Namespace, Output], int]
QUEUES = ["deliveries", "events"]
PEEK_MAX = 100


def _global_options(*, on_subcommand: bool) -> argparse.ArgumentParser:
    """The options every command takes. On subcommands their default is SUPPRESS, so an
    option given before the command is not reset by the subcommand's own copy."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if on_subcommand else value

    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--local", action="store_true", default=default(False), help="act on the local stack"
    )
    options.add_argument(
        "--stack", default=default(None), help="CloudFormation stack name (default: parcelhooks)"
    )
    options.add_argument(
        "--local-config",
        type=Path,
        default=default(LOCAL_CONFIG),
        help=f"the local stack's settings (default: {LOCAL_CONFIG})",
    )
    options.add_argument(
        "--json", action="store_true", default=default(False), help="print JSON only, on stdout"
    )
    return options


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _peek_count(text: str) -> int:
    value = _positive(text)
    if value > PEEK_MAX:
        raise argparse.ArgumentTypeError(f"at most {PEEK_MAX}")
    return value


def _aware_time(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("an RFC 3339 time, e.g. 2026-11-28T00:00:00Z") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("needs an offset, e.g. Z or -03:00")
    return moment.isoformat()


type Subcommands = argparse._SubParsersAction[argparse.ArgumentParser]


def _duration(text: str) -> timedelta:
    """`90s`, `30m`, `1h`, `1d`."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = text[:-1], text[-1:].lower()
    if unit not in units or not number.isdigit():
        raise argparse.ArgumentTypeError("a duration such as 30m, 1h or 1d")
    return timedelta(seconds=int(number) * units[unit])


def _group(commands_: Subcommands, name: str, help_: str, shared: Parents) -> Subcommands:
    group = commands_.add_parser(name, help=help_, parents=shared)
    return group.add_subparsers(dest="action", required=True)


def _command(
    commands_: Subcommands, name: str, help_: str, shared: Parents, handler: Handler
) -> argparse.ArgumentParser:
    command = commands_.add_parser(name, help=help_, parents=shared)
    command.set_defaults(handler=handler)
    return command


def _add_keys(commands_: Subcommands, shared: Parents) -> None:
    keys = _group(commands_, "keys", "API keys", shared)
    create = _command(
        keys, "create", "issue a key; it is printed once", shared, commands.keys_create
    )
    create.add_argument("--role", choices=[r.value for r in Role], required=True)
    create.add_argument("--owner", required=True, help="carrier or merchant id")
    create.add_argument("--description")
    create.add_argument(
        "--merchants",
        help="carrier keys: the only merchant ids it may send for, comma-separated "
        "(default: any merchant)",
    )
    create.add_argument(
        "--vocabulary",
        choices=[v.value for v in Vocabulary],
        help="carrier keys: whose codes its carrier_status speaks (default: canonical, a "
        "carrier that sends our statuses; correios: Correios' SRO codes)",
    )
    _command(keys, "list", "list keys (never the keys)", shared, commands.keys_list)
    vocabulary = _command(
        keys,
        "set-vocabulary",
        "set a carrier key's vocabulary (keys made before vocabularies read correios codes)",
        shared,
        commands.keys_set_vocabulary,
    )
    vocabulary.add_argument("key_id")
    vocabulary.add_argument("vocabulary", choices=[v.value for v in Vocabulary])
    revoke = _command(keys, "revoke", "revoke a key by its id", shared, commands.keys_revoke)
    revoke.add_argument("key_id")


def _add_dlq(commands_: Subcommands, shared: Parents) -> None:
    dlq = _group(commands_, "dlq", "the dead-letter queues", shared)
    _command(
        dlq, "stats", "depth and age of the oldest message, per DLQ", shared, commands.dlq_stats
    )

    peek = _command(dlq, "peek", "summaries; messages stay in place", shared, commands.dlq_peek)
    peek.add_argument("-n", type=_peek_count, default=10, help=f"how many (1-{PEEK_MAX})")
    peek.add_argument("--queue", choices=QUEUES, default="deliveries")

    redrive = _command(
        dlq,
        "redrive",
        "move matching dead letters back into the pipeline",
        shared,
        commands.dlq_redrive,
    )
    redrive.add_argument("--queue", choices=QUEUES, default="deliveries")
    redrive.add_argument("--merchant", help="only this merchant's")
    redrive.add_argument("--subscription", help="only this subscription's (deliveries)")
    redrive.add_argument(
        "--type",
        choices=[*EVENT_TYPES, TEST_EVENT_TYPE],
        metavar="TYPE",
        help="only this event type, e.g. shipment.delivered",
    )
    redrive.add_argument(
        "--since", type=_aware_time, help="dead-lettered (or first queued) at or after, RFC 3339"
    )
    redrive.add_argument(
        "--max",
        type=_positive,
        default=MAX_PER_RUN,
        help=f"at most this many (default {MAX_PER_RUN})",
    )
    redrive.add_argument(
        "--dry-run", action="store_true", help="count what would move; move nothing"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parcelhooks", description=__doc__, parents=[_global_options(on_subcommand=False)]
    )
    shared = [_global_options(on_subcommand=True)]
    commands_ = parser.add_subparsers(dest="command", required=True)

    listen = _command(
        commands_, "listen", "receive webhooks locally and verify them", shared, commands.listen
    )
    listen.add_argument("--host", default="127.0.0.1")
    listen.add_argument("--port", type=int, default=8787)
    listen.add_argument(
        "--secret", default=os.environ.get(SECRET_ENV), help=f"whsec_... (or ${SECRET_ENV})"
    )
    listen.add_argument("--status", type=int, default=204, help="status to answer with")

    _add_keys(commands_, shared)
    _add_dlq(commands_, shared)

    link = _command(
        commands_,
        "portal-link",
        "a one-time sign-in link to the merchant portal, for a merchant",
        shared,
        commands.portal_link,
    )
    link.add_argument("--merchant", required=True, help="the merchant id it signs in as")
    link.add_argument(
        "--ttl", type=_duration, default=None, help="how long it can be used: 30m, 1h (default), 1d"
    )
    link.add_argument(
        "--api-url", help="the API's base URL (default: the stack's, or local.json's)"
    )

    send = _command(
        commands_, "send", "post a carrier event file to the ingest API", shared, commands.send
    )
    send.add_argument("file", help="a JSON event file like events/carrier/*.json, or - for stdin")
    send.add_argument(
        "--key", help=f"carrier key (default: ${CARRIER_KEY_ENV}; with --local, local.json's)"
    )
    send.add_argument(
        "--api-url", help="the API's base URL (default: the stack's, or local.json's)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = Output(json_mode=args.json)
    try:
        return int(args.handler(args, out))
    except CommandFailed as failure:
        out.problem(failure.problem, failure.body)
        return failure.problem.exit_code
    except EXPECTED_ERRORS as error:
        problem = explain(error, local=args.local)
        out.problem(problem)
        return problem.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
