"""A burst of findings through the synthesized state machine and the scheduler, on moto
(plain script, no pytest; no timed assertion: it reports).

    .venv/bin/python benchmarks/bench_burst.py [FINDINGS [ACCOUNT_REGIONS [CONSUMERS]]]

Default: 1,000 findings across 100 account-Regions, 8 concurrent consumers, with duplicated,
throttled and undeleted deliveries (tests/orchestrator/burst.py). Checks what
tests/orchestrator/test_burst.py checks on a smaller burst (none lost, none remediated twice,
one final notification each, spacing per account-Region) and prints throughput (findings/s)
and makespan, simulated (the fake clock: spacing and poll delays as configured) and wall, with
the process's CPU seconds (wall time depends on what else runs on the machine; CPU much less).

Measured on 2 cores shared with other jobs (nice 10; see tests/orchestrator/burst.py for where
the time goes), 8 consumers, 3 s spacing, every finding's function public before the run:

    findings/places  deliveries (redelivered, copies)  makespan sim.  wall    CPU     load avg
    1000/100         3290 (190, 180)                    2176 s         304 s   268 s   6.0-5.1
    200/20           659 (42, 29)                       1564 s         54 s    51 s    4.9

Every check passed in both: 1 automation per finding (0 duplicate starts), 1 QUEUED and 1
SUCCESS notification per finding, no function left public, smallest gap between starts in one
account-Region 3.0 s. The simulated makespan is dominated by the 720 s visibility timeout of
throttled and undeleted deliveries (two in a row: 1,440 s).
"""

from __future__ import annotations

import logging
import os
import sys
from collections import Counter
from pathlib import Path

import pytest
from moto.core.config import default_user_config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's tests package

from lambdas.orchestrator import notifications
from tests.conftest import multi_account_moto
from tests.orchestrator.burst import Burst
from tests.orchestrator.harness import ADMIN, REGION, Harness


def _load() -> str:
    """The 1, 5 and 15 minute load averages (Linux), to read the wall times against."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main(findings: int = 1000, places: int = 100, consumers: int = 8) -> int:
    load_start = _load()
    logging.disable(logging.INFO)  # the handlers log one JSON line per step
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }.items():
            mp.setenv(key, value)
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            mp.delenv(key, raising=False)
        mp.setattr(notifications, "_metrics_enabled", None)
        mp.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
        with multi_account_moto(mp, account=ADMIN):
            harness = Harness(mp, event_source=False)
            burst = Burst(harness, mp, findings=findings, account_regions=places, consumers=consumers)
            report = burst.run(timeout=4 * 3600)
            notes = harness.notifications()
            still_public = burst.still_public()
    finals = Counter(n["finding"]["finding_id"] for n in notes if n["Remediation_Status"] != "QUEUED")
    queued = Counter(n["finding"]["finding_id"] for n in notes if n["Remediation_Status"] == "QUEUED")
    tags = Counter(tag for _, _, tag, _ in burst.starts)
    problems = []
    if report.statuses != Counter({"SUCCEEDED": report.executions}):
        problems.append(f"executions: {dict(report.statuses)}")
    if len(tags) != findings or set(tags.values()) != {1}:
        problems.append(f"automations: {len(tags)} jobs started, most started {tags.most_common(1)}")
    if len(finals) != findings or set(finals.values()) != {1}:
        problems.append(f"final notifications: {len(finals)} findings, most {finals.most_common(1)}")
    if len(queued) != findings or set(queued.values()) != {1}:
        problems.append(f"QUEUED notifications: {len(queued)} findings, most {queued.most_common(1)}")
    outcomes = Counter(n["Remediation_Status"] for n in notes if n["Remediation_Status"] != "QUEUED")
    if set(outcomes) != {"SUCCESS"}:
        problems.append(f"final outcomes: {dict(outcomes)}")
    if still_public:
        problems.append(f"{len(still_public)} functions still public, e.g. {still_public[:3]}")
    if report.min_gap < burst.spacing:
        problems.append(f"spacing: {report.min_gap:.1f} s < {burst.spacing} s")
    if not (report.redeliveries and report.duplicate_deliveries):
        problems.append("no redelivery or no duplicate delivery happened: the burst proved less than it says")
    print("\n".join(report.lines()))
    print(
        f"notifications {len(notes)}: {dict(Counter(n['Remediation_Status'] for n in notes))}; "
        f"{len(finals)} findings with one final notification, {len(queued)} with one QUEUED; "
        f"functions still public: {len(still_public)} of {findings}"
    )
    print(f"load average at the start {load_start}, at the end {_load()} ({os.cpu_count()} CPUs)")
    print("checks: " + ("all passed" if not problems else "FAILED: " + "; ".join(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:4])))
