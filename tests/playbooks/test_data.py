"""Playbook data against the reference's control list (controls.csv, v2.3.2)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from asr.playbooks import data
from asr.playbooks.data import PlaybookError

CSV = Path("/work/shared/reference/controls.csv")
#: Entries we add to the reference's lists, each fixing a reference defect.
ADDITIONS = {("NIST80053", "EC2.14")}  # NIST EC2.14 findings found no runbook in v2.3.2
#: AWS-owned documents the reference ran that ASR runbooks of ours replace, each fixing a reference defect
#: (the AWS document failed unless all four SSH/RDP rules existed; terminated without re-checking).
REPLACED_DOCUMENTS = {
    "AWS-DisablePublicAccessForSecurityGroup": "ASR-DisablePublicAccessForSecurityGroup",
    "AWS-TerminateEC2Instance": "ASR-TerminateEC2Instance",
}
COUNTS = {"SC": 105, "AFSBP": 69, "NIST80053": 68, "CIS120": 36, "CIS140": 34, "PCI321": 27, "CIS300": 19}
OWN = {"SC": 79, "AFSBP": 67, "CIS120": 16, "CIS140": 20, "CIS300": 18, "PCI321": 26, "NIST80053": 66}


@pytest.mark.parametrize("key", list(COUNTS))
def test_counts_per_standard(key):
    std = data.load_standard(key)
    reference = [c for c in std.entries if (key, c.control_id) not in ADDITIONS]
    assert len(reference) == COUNTS[key]
    assert len(std.own()) == OWN[key]


def test_358_reference_entries():
    assert sum(len(s.entries) for s in data.standards()) - len(ADDITIONS) == 358


@pytest.mark.skipif(not CSV.exists(), reason="reference control list not available")
def test_entries_match_the_reference_list():
    rows = list(csv.DictReader(CSV.open()))
    ours = {(s.key, c.control_id): c for s in data.standards() for c in s.entries}
    assert set(ours) - {(r["playbook"], r["control_id"]) for r in rows} == ADDITIONS
    for row in rows:
        control = ours[(row["playbook"], row["control_id"])]
        remap = re.match(r"remap -> (\S+)", row["notes"])
        assert control.remap == (remap.group(1) if remap else None), row["control_id"]
        expected = REPLACED_DOCUMENTS.get(row["remediation_runbook"], row["remediation_runbook"])
        assert data.remediations()[control.remediation].document == expected, row
        if not remap:
            assert control.scope == row["scope"], row
        assert control.added == re.search(r"added (v[\d.]+)", row["notes"]).group(1)


@pytest.mark.parametrize(
    ("key", "control_id", "expected"),
    [
        ("SC", "CloudWatch.1", ["CloudWatch.1", *(f"CloudWatch.{i}" for i in range(2, 15))]),
        ("SC", "S3.2", ["S3.2", "S3.3", "S3.8"]),
        ("SC", "CloudTrail.7", ["CloudTrail.7", "S3.9"]),
        ("CIS120", "1.5", ["1.5", "1.6", "1.7", "1.8", "1.9", "1.10", "1.11"]),
        ("CIS140", "4.1", ["4.1", *(f"4.{i}" for i in range(2, 15))]),
        ("NIST80053", "EC2.13", ["EC2.13", "EC2.14"]),
        ("PCI321", "PCI.S3.1", ["PCI.S3.1", "PCI.S3.2"]),
    ],
)
def test_a_runbook_accepts_every_control_remapped_onto_it(key, control_id, expected):
    std = data.load_standard(key)
    assert std.expected_controls(std.control(control_id)) == expected


def test_every_metric_filter_control_has_its_filter():
    for std in data.standards():
        for c in std.entries:
            if c.remediation == "CreateLogMetricFilterAndAlarm":
                assert c.metric_filter, (std.key, c.control_id)


def test_a_malformed_entry_is_named(monkeypatch):
    bad = [{"id": "X.1", "remediation": "NoSuchRemediation", "scope": "global", "added": "v2.1.0"}]
    with pytest.raises(PlaybookError, match=r"playbooks/SC.yaml X.1: remediation 'NoSuchRemediation'"):
        data._entries("SC", bad)
    with pytest.raises(PlaybookError, match="remap target 'Y.1' is not an own control"):
        data._entries("SC", [{"id": "X.1", "remap": "Y.1", "added": "v2.1.0"}])
    with pytest.raises(PlaybookError, match="scope 'local'"):
        data._entries("SC", [{"id": "X.1", "remediation": "EnableMacie", "scope": "local", "added": "v2.1.0"}])
