"""One function per command: arguments in, the answer shown (table or JSON), exit code out.

Failures are raised (CommandFailed, TargetError, botocore's and requests' errors) and
shown in one place, `main`.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from typing import Any

from parcelhooks.auth.keys import create_key
from parcelhooks.auth.portal import PortalAuth
from parcelhooks.aws.api_keys_table import ApiKeysTable
from parcelhooks.aws.portal_table import PortalTable
from parcelhooks.core.api_keys import ApiKeyRecord, Role, Vocabulary
from parcelhooks.ops.redrive import MAX_PER_RUN
from parcelhooks_cli import dlq
from parcelhooks_cli.errors import EXIT_CANNOT_RUN, EXIT_FAILED, CommandFailed, Problem
from parcelhooks_cli.listen import serve
from parcelhooks_cli.output import Output
from parcelhooks_cli.send import CARRIER_KEY_ENV, post_events, read_event_file
from parcelhooks_cli.target import (
    LocalSettings,
    Target,
    TargetError,
    load_local_settings,
    resolve_target,
)


def _target(args: argparse.Namespace) -> Target:
    return resolve_target(args.local, args.stack, args.local_config)


# --- listen ------------------------------------------------------------------------------


def listen(args: argparse.Namespace, out: Output) -> int:
    serve(args.host, args.port, args.secret, args.status)
    return 0


# --- keys --------------------------------------------------------------------------------


def _keys_table(target: Target) -> ApiKeysTable:
    return ApiKeysTable(target.resource("dynamodb").Table(target.output("ApiKeysTableName")))


def _id_list(text: str) -> list[str]:
    return sorted({part.strip() for part in text.split(",") if part.strip()})


def _key_json(record: ApiKeyRecord) -> dict[str, Any]:
    return {**record.model_dump(mode="json", exclude={"key_hash"}), "active": record.active}


def keys_create(args: argparse.Namespace, out: Output) -> int:
    table = _keys_table(_target(args))
    merchants = None if args.merchants is None else _id_list(args.merchants)
    vocabulary = None if args.vocabulary is None else Vocabulary(args.vocabulary)
    try:
        key, record = create_key(
            table, Role(args.role), args.owner, args.description, merchants, vocabulary=vocabulary
        )
    except ValueError as error:
        raise CommandFailed(Problem("bad_input", str(error), EXIT_CANNOT_RUN)) from None
    if out.json_mode:
        out.data({**_key_json(record), "key": key})
    else:
        scope = f" for {','.join(record.merchants)}" if record.merchants is not None else ""
        codes = f" reading {record.vocabulary.value} codes" if record.vocabulary else ""
        out.line(f"{record.key_id} {record.role.value} {record.owner_id}{scope}{codes}")
        out.line(key)
    out.note("Store the key now: it cannot be shown again.")
    return 0


def keys_list(args: argparse.Namespace, out: Output) -> int:
    records = sorted(_keys_table(_target(args)).all(), key=lambda r: r.created_at)
    if out.json_mode:
        out.data([_key_json(record) for record in records])
        return 0
    out.table(
        ["key id", "role", "owner", "state", "merchants", "vocabulary"],
        [
            (
                r.key_id,
                r.role.value,
                r.owner_id,
                f"revoked {r.revoked_at:%Y-%m-%d}" if r.revoked_at else "active",
                ",".join(r.merchants) if r.merchants else None,
                _vocabulary_label(r),
            )
            for r in records
        ],
    )
    return 0


def _vocabulary_label(record: ApiKeyRecord) -> str | None:
    if record.role is not Role.CARRIER:
        return None
    if record.vocabulary is None:
        return f"{record.reads.value} (not set: set-vocabulary)"
    return record.vocabulary.value


def keys_set_vocabulary(args: argparse.Namespace, out: Output) -> int:
    vocabulary = Vocabulary(args.vocabulary)
    before = _keys_table(_target(args)).set_vocabulary(args.key_id, vocabulary)
    if before is None:
        raise CommandFailed(Problem("not_found", f"no carrier key {args.key_id}", EXIT_FAILED))
    if out.json_mode:
        out.data({"key_id": args.key_id, "vocabulary": vocabulary.value, "was": before.reads})
    else:
        out.line(f"{args.key_id} reads {vocabulary.value} codes (was {before.reads.value})")
    out.note("The authorizer's cache may keep the old vocabulary for AuthorizerCacheTtl.")
    return 0


def keys_revoke(args: argparse.Namespace, out: Output) -> int:
    if not _keys_table(_target(args)).revoke(args.key_id, datetime.now(UTC)):
        raise CommandFailed(Problem("not_found", f"no key {args.key_id}", EXIT_FAILED))
    if out.json_mode:
        out.data({"revoked": args.key_id})
    else:
        out.line(f"revoked {args.key_id}")
    return 0


# --- dlq ---------------------------------------------------------------------------------


def human_age(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    whole = int(seconds)
    for unit, size, smaller, smaller_size in (("d", 86400, "h", 3600), ("h", 3600, "m", 60)):
        if whole >= size:
            return f"{whole // size}{unit} {whole % size // smaller_size}{smaller}"
    return f"{whole // 60}m {whole % 60}s" if whole >= 60 else f"{whole}s"


def _age_label(stats: dlq.QueueStats) -> str | None:
    if stats.age_source == "cloudwatch":
        return "CloudWatch ApproximateAgeOfOldestMessage"
    if stats.age_source == "sample":
        return f"oldest SentTimestamp of {stats.sampled} sampled"
    return None


def dlq_stats(args: argparse.Namespace, out: Output) -> int:
    target = _target(args)
    now = datetime.now(UTC)
    stats = [dlq.queue_stats(target, queue, now) for queue in ("deliveries", "events")]
    if out.json_mode:
        out.data({s.queue: s.as_json() for s in stats})
        return 0
    out.table(
        ["DLQ", "visible", "in flight", "depth", "oldest", "age from"],
        [
            (s.queue, s.visible, s.in_flight, s.depth, human_age(s.oldest_age_s), _age_label(s))
            for s in stats
        ],
    )
    return 0


def dlq_peek(args: argparse.Namespace, out: Output) -> int:
    letters = dlq.peek(_target(args), args.queue, args.n)
    if out.json_mode:
        out.data({"queue": args.queue, "messages": [letter.as_json() for letter in letters]})
        return 0
    if not letters:
        out.line(f"nothing visible in the {args.queue} DLQ")
        return 0
    out.table(
        ["id", "merchant", "subscription", "type", "tracking code", "attempts", "last error", "at"],
        [
            (
                letter.id,
                letter.merchant_id,
                letter.subscription_id,
                letter.event_type,
                letter.tracking_code,
                letter.attempts,
                letter.last_error,
                letter.dead_lettered_at,
            )
            for letter in letters
        ],
        title=f"{args.queue} DLQ: {len(letters)} shown, all left in place",
    )
    return 0


def dlq_redrive(args: argparse.Namespace, out: Output) -> int:
    if args.dry_run and args.max > MAX_PER_RUN:
        message = f"a dry run looks at {MAX_PER_RUN} messages at most: lower --max"
        raise CommandFailed(Problem("bad_input", message, EXIT_CANNOT_RUN))
    target = _target(args)
    filters = dlq.RedriveFilters(
        args.queue, args.merchant, args.subscription, args.type, args.since, args.dry_run
    )
    invoke = dlq.lambda_invoker(target)
    bound = 0 if out.json_mode else dlq.redrive_bound(target, args.queue, args.max)
    verb = "matching (dry run)" if args.dry_run else "redriving"
    with out.progress(f"{verb} {args.queue} DLQ", bound) as advance:
        summary = dlq.redrive(invoke, filters, args.max, advance)
    if out.json_mode:
        out.data(summary.as_json())
        return 0
    moved = "would move" if summary.dry_run else "moved"
    out.line(
        f"{summary.queue} DLQ{' (dry run)' if summary.dry_run else ''}: "
        f"{summary.matched} matched, {moved} {summary.moved}, skipped {summary.skipped}, "
        f"{summary.left} left in the DLQ ({summary.invocations} invocation"
        f"{'' if summary.invocations == 1 else 's'})"
    )
    if summary.skipped_ids:
        out.line("skipped (subscription disabled or deleted): " + ", ".join(summary.skipped_ids))
    return 0


# --- send --------------------------------------------------------------------------------


def _carrier_key(args: argparse.Namespace, local: LocalSettings | None) -> str:
    key = args.key or os.environ.get(CARRIER_KEY_ENV) or (local.carrier_key if local else None)
    if not key:
        where = f" ({args.local_config} has none)" if local else ""
        raise TargetError(f"no carrier key: pass --key or set ${CARRIER_KEY_ENV}{where}")
    return str(key)


def _api_url(args: argparse.Namespace, local: LocalSettings | None) -> str:
    if args.api_url:
        return str(args.api_url)
    if local is None:
        return _target(args).output("ApiUrl")
    if not local.api_url:
        raise TargetError(f"{args.local_config} has no api_url: pass --api-url")
    return local.api_url


def send(args: argparse.Namespace, out: Output) -> int:
    body = read_event_file(args.file)
    needs_local = args.local and not (args.api_url and (args.key or CARRIER_KEY_ENV in os.environ))
    local = load_local_settings(args.local_config) if needs_local else None
    answer = post_events(_api_url(args, local), _carrier_key(args, local), body)
    if out.json_mode:
        out.data(answer)
        return 0
    out.line(f"accepted {answer.get('accepted')}, duplicates {answer.get('duplicates')}")
    out.table(
        ["carrier event id", "event id", "duplicate"],
        [
            (event.get("carrier_event_id"), event.get("event_id"), event.get("duplicate"))
            for event in answer.get("events", [])
        ],
    )
    return 0


# --- portal-link ---------------------------------------------------------------------------


def portal_link(args: argparse.Namespace, out: Output) -> int:
    """A one-time sign-in link to the merchant portal, made by ops for a merchant."""
    target = _target(args)
    table = PortalTable(target.resource("dynamodb").Table(target.output("PortalTableName")))
    try:
        link = PortalAuth(table).issue_link(args.merchant, ttl=args.ttl, issued_by="ops")
    except ValueError as error:
        raise CommandFailed(Problem("bad_input", str(error), EXIT_CANNOT_RUN)) from None
    local = load_local_settings(args.local_config) if args.local else None
    url = f"{_api_url(args, local).rstrip('/')}/portal/#link={link.token}"
    if out.json_mode:
        out.data({"merchant_id": args.merchant, "url": url, "expires_at": link.expires_at})
    else:
        out.line(url)
    out.note(f"Signs in once, as {args.merchant}, until {link.expires_at:%Y-%m-%d %H:%M} UTC.")
    return 0
