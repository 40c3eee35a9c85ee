"""A reduced burst through the synthesized state machine and the scheduler (issue 14):
8 findings across 2 account-Regions, 4 concurrent consumers, duplicated, throttled and
undeleted deliveries, on a fake clock. The full 1,000 / 100 burst is benchmarks/bench_burst.py.
"""

from __future__ import annotations

from collections import Counter

import pytest

from asr import solution
from tests.orchestrator.burst import Burst
from tests.orchestrator.harness import Harness

#: small enough for the default run (the full burst: benchmarks/bench_burst.py)
FINDINGS, PLACES = 8, 2


#: frequent enough that each kind of bad delivery happens in a small burst
RATES = {"duplicate_rate": 0.2, "throttle_rate": 0.15, "abandon_rate": 0.15}


@pytest.fixture
def burst_harness(moto_admin: None, monkeypatch: pytest.MonkeyPatch) -> Harness:
    return Harness(monkeypatch, event_source=False)


def test_a_burst_loses_nothing_duplicates_nothing_and_keeps_the_spacing(burst_harness: Harness, monkeypatch):
    burst = Burst(burst_harness, monkeypatch, findings=FINDINGS, account_regions=PLACES, consumers=4, **RATES)

    report = burst.run()

    print("\n" + "\n".join(report.lines()))
    assert report.statuses == Counter({"SUCCEEDED": report.executions})
    # the failures the burst is about did happen
    assert report.duplicates_injected and report.throttles_injected and report.abandoned_injected
    # none lost, none remediated twice: one automation per finding, one job tag each
    tags = Counter(tag for _, _, tag, _ in burst.starts)
    assert len(tags) == FINDINGS and set(tags.values()) == {1}
    # each finding ends with exactly one final notification (and one QUEUED)
    notes = burst_harness.notifications()
    finals = Counter(n["finding"]["finding_id"] for n in notes if n["Remediation_Status"] != "QUEUED")
    queued = Counter(n["finding"]["finding_id"] for n in notes if n["Remediation_Status"] == "QUEUED")
    assert len(finals) == FINDINGS and set(finals.values()) == {1}, finals.most_common(3)
    assert set(queued.values()) == {1} and len(queued) == FINDINGS
    # never two starts in one account-Region closer than the configured spacing (fake clock)
    assert report.min_gap >= solution.REMEDIATION_WAIT_SECONDS
    per_place = FINDINGS // PLACES
    assert report.simulated_makespan >= (per_place - 1) * solution.REMEDIATION_WAIT_SECONDS
