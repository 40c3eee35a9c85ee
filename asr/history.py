"""``asr history``: the remediation history table (docs/history.md), read with your own credentials.

Reads are planned on the table's indexes (asr/admin/orchestrator.py ``_history_table``):

* ``--control`` -> one Query of index ``ByControl`` (ControlId = control, FinishedAt between the bounds);
* a time range of at most ``DAY_QUERY_LIMIT`` days -> one Query of index ``ByDay`` per UTC day;
* anything else (no control, no or a longer range) -> a Scan of the table (every item is read).

Account, resource and outcome are applied as a FilterExpression (DynamoDB still reads, and bills,
the items the key condition selects). The command prints what it read (calls, items scanned).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from asr import solution
from lambdas.orchestrator import outcomes

#: Longest --since/--until range read day by day on ByDay (longer: a Scan is cheaper in calls).
DAY_QUERY_LIMIT = 92
COLUMNS = ("FinishedAt", "ControlId", "AccountId", "Region", "Outcome", "Initiator", "Attempt", "Resource", "Message")
CSV_COLUMNS = (
    "FinishedAt",
    "StartedAt",
    "FirstSeenAt",
    "TimeToRemediateSeconds",
    "ControlId",
    "Standard",
    "AccountId",
    "Region",
    "Resource",
    "ResourceType",
    "Outcome",
    "Initiator",
    "CustomActionName",
    "Attempt",
    "Runbook",
    "ExecutionArn",
    "AutomationExecutionId",
    "PolicyVersion",
    "FindingId",
    "Message",
    solution.HISTORY_KEY,
)
_RELATIVE = re.compile(r"([1-9][0-9]{0,5})([mhdw])", re.ASCII)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_ACCOUNT = re.compile(r"[0-9]{12}", re.ASCII)


def _usage(message: str) -> Exception:
    from asr.cli import UsageError

    return UsageError(message)


def parse_when(flag: str, value: str, now: datetime) -> datetime:
    """``7d`` / ``12h`` / ``30m`` / ``2w`` before ``now``, or an ISO 8601 date or time (UTC if no zone)."""
    text = value.strip()
    match = _RELATIVE.fullmatch(text)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise _usage(
            f"{flag} {value!r} is neither a relative time (e.g. 30m, 12h, 7d, 2w) nor an ISO 8601 date or time "
            "(e.g. 2025-01-31 or 2025-01-31T08:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Filters:
    control: str | None = None
    account: str | None = None
    resource: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace, now: datetime) -> Filters:
        if args.account is not None and not _ACCOUNT.fullmatch(args.account):
            raise _usage(f"--account {args.account!r} is not a 12-digit AWS account id")
        outcome = args.outcome.upper() if args.outcome else None
        if outcome is not None and outcome not in outcomes.ALL:
            raise _usage(f"--outcome {args.outcome!r} is not one of {', '.join(outcomes.ALL)}")
        for flag, value in (("--control", args.control), ("--resource", args.resource)):
            if value is not None and not value.strip():
                raise _usage(f"{flag} {value!r} is empty")
        since = parse_when("--since", args.since, now) if args.since else None
        until = parse_when("--until", args.until, now) if args.until else None
        if since and until and since > until:
            raise _usage(f"--since {args.since!r} is after --until {args.until!r}")
        return cls(args.control, args.account, args.resource, outcome, since, until)


@dataclass
class Reads:
    """What the command asked DynamoDB for (the cost: docs/history.md)."""

    plan: str = ""
    calls: int = 0
    scanned: int = 0
    consumed: float = 0.0
    days: list[str] = field(default_factory=list)


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, typed in item.items():
        ((kind, value),) = typed.items()
        if kind == "N":
            number = float(value)
            out[key] = int(number) if number.is_integer() and "." not in value else number
        else:
            out[key] = value
    return out


def plan(filters: Filters, now: datetime) -> tuple[str, list[str]]:
    """("control" | "days" | "scan", the UTC days a "days" plan queries)."""
    if filters.control:
        return "control", []
    if filters.since:
        until = filters.until or now
        days = (until.astimezone(UTC).date() - filters.since.astimezone(UTC).date()).days + 1
        if days <= DAY_QUERY_LIMIT:
            first = filters.since.astimezone(UTC).date()
            return "days", [(first + timedelta(days=i)).isoformat() for i in range(days)]
    return "scan", []


def read(client: Any, table: str, filters: Filters, now: datetime, reads: Reads) -> Iterator[dict[str, Any]]:
    """The matching records, newest first within each query (a scan is sorted by the caller)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    conditions: list[str] = []
    for attr, value, op in (
        ("AccountId", filters.account, "="),
        ("Outcome", filters.outcome, "="),
        ("Resource", filters.resource, "contains"),
    ):
        if value is None:
            continue
        names[f"#{attr}"] = attr
        values[f":{attr}"] = {"S": value}
        conditions.append(f"contains(#{attr}, :{attr})" if op == "contains" else f"#{attr} = :{attr}")
    low, high = _iso(filters.since) if filters.since else None, _iso(filters.until) if filters.until else None
    kind, days = plan(filters, now)
    reads.plan, reads.days = kind, days
    requests: list[dict[str, Any]] = []
    time_key = ""
    if low or high:
        names["#t"] = "FinishedAt"
        if low:
            values[":lo"] = {"S": low}
        if high:
            values[":hi"] = {"S": high}
        time_key = "#t BETWEEN :lo AND :hi" if low and high else ("#t >= :lo" if low else "#t <= :hi")
    if kind == "control":
        names["#c"] = "ControlId"
        values[":c"] = {"S": filters.control}
        key = " AND ".join(["#c = :c", *([time_key] if time_key else [])])
        requests.append({"IndexName": solution.HISTORY_BY_CONTROL_INDEX, "KeyConditionExpression": key})
    elif kind == "days":
        names["#d"] = "FinishedDay"
        for i, day in enumerate(reversed(days)):
            values[f":d{i}"] = {"S": day}
            key = " AND ".join([f"#d = :d{i}", *([time_key] if time_key else [])])
            requests.append(
                {"IndexName": solution.HISTORY_BY_DAY_INDEX, "KeyConditionExpression": key, "_day": f":d{i}"}
            )
    else:
        if time_key:
            conditions.append(time_key)
        requests.append({})
    for request in requests:
        day = request.pop("_day", None)
        params: dict[str, Any] = {"TableName": table, "ReturnConsumedCapacity": "TOTAL", **request}
        if kind != "scan":
            params["ScanIndexForward"] = False
        if conditions:
            params["FilterExpression"] = " AND ".join(conditions)
        used = {n for n in names if n in " ".join(str(v) for v in params.values())}
        if used:
            params["ExpressionAttributeNames"] = {n: names[n] for n in used}
        text = " ".join(str(v) for k, v in params.items() if k.endswith("Expression"))
        wanted = {v: values[v] for v in values if re.search(rf"{re.escape(v)}\b", text)}
        if day:
            wanted[day] = values[day]
        if wanted:
            params["ExpressionAttributeValues"] = wanted
        call = client.scan if kind == "scan" else client.query
        while True:
            page = call(**params)
            reads.calls += 1
            reads.scanned += page.get("ScannedCount", 0)
            reads.consumed += float((page.get("ConsumedCapacity") or {}).get("CapacityUnits", 0) or 0)
            for item in page.get("Items", []):
                yield _plain(item)
            if "LastEvaluatedKey" not in page:
                break
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of sorted ``values``."""
    rank = max(1, math.ceil(pct / 100 * len(values)))
    return values[rank - 1]


def summary(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per control: SUCCESS records with a time-to-remediate -> count, median and p90 (seconds)."""
    by_control: dict[str, list[float]] = {}
    for r in records:
        if r.get("Outcome") == outcomes.SUCCESS and isinstance(r.get("TimeToRemediateSeconds"), int | float):
            by_control.setdefault(r.get("ControlId", "-"), []).append(float(r["TimeToRemediateSeconds"]))
    rows = []
    for control in sorted(by_control):
        values = sorted(by_control[control])
        rows.append(
            {
                "ControlId": control,
                "Count": len(values),
                "MedianSeconds": statistics.median(values),
                "P90Seconds": percentile(values, 90),
            }
        )
    return rows


def duration(seconds: float) -> str:
    seconds = round(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s"


def _cell(value: Any, width: int) -> str:
    text = " ".join(str(value if value is not None else "").split())
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def render_table(records: Sequence[dict[str, Any]], out: TextIO, width: int = 60) -> None:
    rows = [[_cell(r.get(c, ""), width) for c in COLUMNS] for r in records]
    widths = [max([len(c), *(len(row[i]) for row in rows)]) for i, c in enumerate(COLUMNS)]
    out.write("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip() + "\n")
    for row in rows:
        out.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n")


def render_summary(rows: Sequence[dict[str, Any]], out: TextIO) -> None:
    out.write("\nTime to remediate (first seen -> SUCCESS), per control:\n")
    if not rows:
        out.write("  no SUCCESS with a first-seen time in this selection\n")
        return
    head = ("ControlId", "Count", "Median", "p90")
    cells = [(r["ControlId"], str(r["Count"]), duration(r["MedianSeconds"]), duration(r["P90Seconds"])) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(head)]
    out.write("  " + "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip() + "\n")
    for c in cells:
        out.write("  " + "  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip() + "\n")


def cmd_history(args: argparse.Namespace, out: TextIO, *, client: Any = None, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    filters = Filters.from_args(args, now)
    if args.limit is not None and args.limit < 1:
        raise _usage(f"--limit {args.limit} must be at least 1")
    if client is None:
        import boto3

        client = boto3.client("dynamodb", region_name=args.region)
    reads = Reads()
    try:
        records = list(read(client, args.table, filters, now, reads))
    except Exception as err:
        code = getattr(err, "response", {}).get("Error", {}).get("Code", type(err).__name__)
        raise _usage(f"cannot read table {args.table!r}: {code}: {err}") from None
    records.sort(key=lambda r: (r.get("FinishedAt", ""), r.get(solution.HISTORY_KEY, "")), reverse=True)
    if args.limit is not None:
        records = records[: args.limit]
    rows = summary(records)
    if args.json:
        json.dump(
            {"records": records, "time_to_remediate": rows, "reads": reads.__dict__}, out, indent=2, sort_keys=True
        )
        out.write("\n")
    elif args.csv:
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for r in records:
            writer.writerow({c: r.get(c, "") for c in CSV_COLUMNS})
    else:
        render_table(records, out)
        render_summary(rows, out)
        out.write(
            f"\n{len(records)} record(s); read with {reads.plan} "
            f"({reads.calls} call(s), {reads.scanned} item(s) read)\n"
        )
    return 0


def add_history_command(sub: Any) -> None:
    """``asr history`` on the ``asr`` parser's subparsers."""
    cmd = sub.add_parser(
        "history",
        help="remediation attempts and time to remediate, from the history table",
        description="Remediation attempts recorded by the orchestrator (docs/history.md), read with your "
        "AWS credentials from the admin account.",
    )
    cmd.add_argument("--region", help="Region of the admin stack (default: your AWS configuration's)")
    cmd.add_argument("--table", default=solution.HISTORY_TABLE, help=f"default {solution.HISTORY_TABLE}")
    cmd.add_argument("--control", help="control id, e.g. S3.5 (security control id for consolidated findings)")
    cmd.add_argument("--account", help="12-digit account id of the finding")
    cmd.add_argument("--resource", help="part of the resource id or ARN")
    cmd.add_argument("--outcome", help=f"one of {', '.join(outcomes.ALL)}")
    cmd.add_argument("--since", help="ISO 8601 date/time or relative (30m, 12h, 7d, 2w)")
    cmd.add_argument("--until", help="ISO 8601 date/time or relative (default: now)")
    cmd.add_argument("--limit", type=int, help="at most this many records (newest first)")
    form = cmd.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="records, time-to-remediate summary and reads as JSON")
    form.add_argument("--csv", action="store_true", help="records as CSV")
    cmd.set_defaults(func=cmd_history)
