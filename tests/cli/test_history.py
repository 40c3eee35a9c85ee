"""``asr history`` (asr/history.py): over records a real run of the synthesized state machine wrote
(moto, tests/orchestrator/harness.py), and its parsing, planning and summary."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from asr import history as cli_history
from asr import solution
from asr.cli import main
from asr.simulator.findings import custom_action_event, imported_event
from tests.orchestrator.conftest import harness, moto_admin  # noqa: F401 (fixtures)
from tests.orchestrator.harness import MEMBER, REGION, Harness
from tests.orchestrator.scenarios import lambda1_finding, member_with_lambda1

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["history", *argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def two_runs(harness: Harness) -> Harness:  # noqa: F811
    """A SUCCESS (custom action, first seen 3 hours ago) and a FAILED (AutoTrigger) recorded by the
    orchestrator itself."""
    harness.install_playbook()
    _, function_arn = member_with_lambda1(harness)
    ok = lambda1_finding(function_arn)
    ok["FirstObservedAt"] = (datetime.now(UTC) - timedelta(hours=3)).isoformat().replace("+00:00", "Z")
    harness.import_finding(ok)
    assert harness.run(custom_action_event([ok])).status == "SUCCEEDED"
    bad = lambda1_finding(f"arn:aws:lambda:{REGION}:{MEMBER}:function:no-such-function")
    harness.import_finding(bad)
    event = imported_event([bad])
    event["detail"]["actionName"] = "None"
    assert harness.run(event).status == "SUCCEEDED"
    return harness


def test_the_report_over_a_real_run(two_runs: Harness):
    code, out, err = run("--region", REGION)

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == list(cli_history.COLUMNS)
    assert [line.split()[4] for line in lines[1:3]] == ["FAILED", "SUCCESS"]  # newest first
    assert "function:no-such-func" in lines[1] and "CUSTOM_ACTION" in lines[2] and "AUTO" in lines[1]
    summary = lines[lines.index("Time to remediate (first seen -> SUCCESS), per control:") + 2]
    control, count, median, p90 = summary.split()
    assert (control, count) == ("Lambda.1", "1") and median == p90 and median.startswith("3h")
    assert lines[-1] == "2 record(s); read with scan (1 call(s), 2 item(s) read)"


def test_filters_read_the_indexes(two_runs: Harness):
    code, out, _ = run("--region", REGION, "--control", "Lambda.1", "--since", "1d", "--json")
    data = json.loads(out)
    assert code == 0 and len(data["records"]) == 2
    assert data["reads"]["plan"] == "control" and data["reads"]["calls"] == 1
    [ttr] = data["time_to_remediate"]
    assert ttr["ControlId"] == "Lambda.1" and ttr["Count"] == 1 and 3 * 3600 <= ttr["MedianSeconds"] < 3 * 3600 + 120

    code, out, _ = run("--region", REGION, "--since", "2d", "--outcome", "failed", "--json")
    data = json.loads(out)
    assert [r["Outcome"] for r in data["records"]] == ["FAILED"]
    assert data["reads"]["plan"] == "days" and data["reads"]["calls"] == 3  # today and the 2 days before

    code, out, _ = run("--region", REGION, "--account", MEMBER, "--resource", "no-such", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["AccountId"], r["Outcome"], r["Initiator"]) for r in rows] == [(MEMBER, "FAILED", "AUTO")]
    assert list(rows[0]) == list(cli_history.CSV_COLUMNS)

    assert json.loads(run("--region", REGION, "--account", "210987654321", "--json")[1])["records"] == []
    assert json.loads(run("--region", REGION, "--until", "2000-01-01", "--json")[1])["records"] == []


def test_a_missing_table_is_named(moto_admin):  # noqa: F811
    code, _, err = run("--region", REGION, "--table", "nope")
    assert code == 2 and "cannot read table 'nope': ResourceNotFoundException" in err


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--since", "yesterday"], "--since 'yesterday' is neither a relative time"),
        (["--until", "7x"], "--until '7x'"),
        (["--since", "0d"], "--since '0d'"),
        (["--outcome", "DONE"], "--outcome 'DONE' is not one of"),
        (["--account", "12345"], "--account '12345' is not a 12-digit"),
        (["--account", "\u0661" * 12], "is not a 12-digit"),
        (["--control", " "], "--control ' ' is empty"),
        (["--since", "1d", "--until", "2d"], "--since '1d' is after --until '2d'"),
        (["--limit", "0"], "--limit 0 must be at least 1"),
    ],
)
def test_bad_filters_exit_2_naming_the_value(argv, named):
    code, out, err = run("--region", REGION, *argv)
    assert (code, out) == (2, "") and named in err


def test_relative_and_iso_times():
    assert cli_history.parse_when("--since", "7d", NOW) == NOW - timedelta(days=7)
    assert cli_history.parse_when("--since", "90m", NOW) == NOW - timedelta(minutes=90)
    assert cli_history.parse_when("--since", "2w", NOW) == NOW - timedelta(weeks=2)
    assert cli_history.parse_when("--since", "2025-01-31", NOW) == datetime(2025, 1, 31, tzinfo=UTC)
    assert cli_history.parse_when("--since", "2025-01-31T08:00:00Z", NOW) == datetime(2025, 1, 31, 8, tzinfo=UTC)
    assert cli_history.parse_when("--since", "2025-01-31T08:00:00+02:00", NOW) == datetime(2025, 1, 31, 6, tzinfo=UTC)


def test_the_plan_uses_an_index_when_it_can():
    f = cli_history.Filters
    assert cli_history.plan(f(control="S3.5"), NOW) == ("control", [])
    kind, days = cli_history.plan(f(since=NOW - timedelta(days=2)), NOW)
    assert kind == "days" and days == ["2025-03-08", "2025-03-09", "2025-03-10"]
    assert cli_history.plan(f(since=NOW - timedelta(days=cli_history.DAY_QUERY_LIMIT)), NOW)[0] == "scan"
    assert cli_history.plan(f(), NOW) == ("scan", [])


def test_time_to_remediate_summary():
    records = [
        {"ControlId": "S3.5", "Outcome": "SUCCESS", "TimeToRemediateSeconds": s} for s in (10, 20, 30, 40, 1000)
    ] + [
        {"ControlId": "S3.5", "Outcome": "FAILED"},
        {"ControlId": "EC2.2", "Outcome": "SUCCESS", "TimeToRemediateSeconds": 7200.5},
        {"ControlId": "EC2.2", "Outcome": "SUCCESS"},  # no first-seen time: not counted
    ]
    assert cli_history.summary(records) == [
        {"ControlId": "EC2.2", "Count": 1, "MedianSeconds": 7200.5, "P90Seconds": 7200.5},
        {"ControlId": "S3.5", "Count": 5, "MedianSeconds": 30, "P90Seconds": 1000},
    ]
    assert [cli_history.duration(s) for s in (59, 3600 * 3 + 65, 86400 * 2 + 3600)] == ["0m59s", "3h01m", "2d01h"]


def test_reads_follow_pages():
    """Every page of a query is read (LastEvaluatedKey), and counted."""
    pages = [
        {"Items": [{"RecordId": {"S": "a"}, "FinishedAt": {"S": "2"}}], "ScannedCount": 1, "LastEvaluatedKey": {}},
        {"Items": [{"RecordId": {"S": "b"}, "FinishedAt": {"S": "1"}, "Attempt": {"N": "1"}}], "ScannedCount": 1},
    ]
    calls = []

    class Client:
        def query(self, **params):
            calls.append(params)
            return pages[len(calls) - 1]

    reads = cli_history.Reads()
    got = list(cli_history.read(Client(), "t", cli_history.Filters(control="S3.5"), NOW, reads))
    assert [r["RecordId"] for r in got] == ["a", "b"] and got[1]["Attempt"] == 1
    assert (reads.calls, reads.scanned) == (2, 2) and "ExclusiveStartKey" in calls[1]
    assert calls[0]["IndexName"] == solution.HISTORY_BY_CONTROL_INDEX
    assert calls[0]["ExpressionAttributeValues"] == {":c": {"S": "S3.5"}}


def test_the_table_name_defaults_to_the_solutions():
    from asr.cli import build_parser

    args = build_parser().parse_args(["history"])
    assert (args.table, args.func) == (solution.HISTORY_TABLE, cli_history.cmd_history)
