"""The asr command."""

from __future__ import annotations

import io
import json
import tomllib
from pathlib import Path

import pytest

from asr import cli, documents, solution
from asr.controls.mapping import security_control
from asr.playbooks import data


def _run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_runbooks_lists_every_remediation_with_a_summary():
    code, out, _ = _run("runbooks")
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("ASR-")]
    assert len(lines) == len(documents.remediation_names())
    key_rotation = next(line for line in lines if line.startswith("ASR-EnableKeyRotation "))
    assert "Turns on automatic annual rotation" in key_rotation


def test_runbook_shows_parameters_steps_and_permissions():
    code, out, _ = _run("runbook", "ASR-EnableKeyRotation")
    assert code == 0
    assert "runs as role SO0111-EnableKeyRotation-<namespace>" in out
    assert "KeyId: String (required)" in out
    assert "EnableKeyRotation: aws:executeScript" in out
    assert "allow kms:DescribeKey, kms:GetKeyRotationStatus, kms:EnableKeyRotation" in out


def test_runbook_accepts_the_name_without_prefix():
    assert _run("runbook", "EnableKeyRotation")[0] == 0


def test_unknown_runbook_names_the_value_and_suggests():
    code, out, err = _run("runbook", "EnableKeyRotaton")
    assert code == 2 and out == ""
    assert "runbook 'EnableKeyRotaton' is not one of the" in err
    assert "did you mean ASR-EnableKeyRotation" in err


def test_unknown_standard_names_the_value():
    code, _, err = _run("controls", "ISO27001")
    assert code == 2
    assert "standard 'ISO27001' is not one of SC, AFSBP" in err


def test_controls_lists_each_standard():
    code, out, _ = _run("controls")
    assert code == 0
    assert out.count(" runbooks\n") == 7
    assert "SC: Consolidated Control Findings Playbook (security-control 2.0.0), 105 controls, 79 runbooks" in out


def test_controls_shows_runbooks_and_remaps():
    code, out, _ = _run("controls", "cis120")
    assert code == 0
    assert "  1.5                ASR-CIS_1.2.0_1.5 -> SetIAMPasswordPolicy (global)" in out
    assert "  1.6                -> 1.5 (runs ASR-CIS_1.2.0_1.5)" in out


def test_version_is_the_solution_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    printed = capsys.readouterr().out
    assert printed == f"asr {solution.VERSION} ({solution.SOLUTION_NAME})\n"
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    assert f"v{project['version']}" == solution.VERSION


def test_controls_json_has_one_object_per_entry():
    code, out, _ = _run("controls", "--json")
    assert code == 0
    rows = json.loads(out)
    entries = [(s, c) for s in data.standards() for c in s.entries]
    assert len(rows) == len(entries)
    for row, (std, control) in zip(rows, entries, strict=True):
        target = std.control(control.remap or control.control_id)
        assert (row["playbook"], row["standard"], row["control"]) == (std.key, std.short_name, control.control_id)
        assert row["remapped_to"] == control.remap
        assert row["control_runbook"] == std.control_runbook(target.control_id)
        assert row["remediation_runbook"] == data.remediations()[target.remediation].document
        assert row["security_control"] == security_control(std.key, control.control_id)
        assert row["auto_trigger_parameter"] == solution.auto_trigger_parameter(
            std.short_name, std.version, control.control_id
        )
    cis = json.loads(_run("controls", "CIS120", "--json")[1])
    assert {r["playbook"] for r in cis} == {"CIS120"}
    one = next(r for r in cis if r["control"] == "1.6")
    assert (one["remapped_to"], one["control_runbook"], one["remediation_runbook"]) == (
        "1.5",
        "ASR-CIS_1.2.0_1.5",
        "ASR-SetIAMPasswordPolicy",
    )


def test_controls_markdown_has_a_row_per_entry_and_the_counts():
    code, out, _ = _run("controls", "--markdown")
    assert code == 0
    total = sum(len(s.entries) for s in data.standards())
    assert out.startswith("# Controls ASR remediates\n")
    assert f"{total} control entries in 7 playbooks" in out
    sc = data.load_standard("SC")
    assert f"| SC | {sc.title} | 2.0.0 | {len(sc.entries)} | {len(sc.own())} | {len(sc.remaps())} |" in out
    assert "| CloudTrail.3 | CloudTrail.3 | `ASR-SC_2.0.0_CloudTrail.1` (remapped to CloudTrail.1) |" in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == total


def test_controls_json_and_markdown_exclude_each_other():
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["controls", "--json", "--markdown"], err=io.StringIO())
    assert exit_info.value.code == 2
