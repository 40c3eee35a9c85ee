"""The asr command."""

from __future__ import annotations

import io

from asr import cli, documents


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


def test_explain_shows_parameters_steps_and_permissions():
    code, out, _ = _run("explain", "ASR-EnableKeyRotation")
    assert code == 0
    assert "runs as role SO0111-EnableKeyRotation-<namespace>" in out
    assert "KeyId: String (required)" in out
    assert "EnableKeyRotation: aws:executeScript" in out
    assert "allow kms:DescribeKey, kms:GetKeyRotationStatus, kms:EnableKeyRotation" in out


def test_explain_accepts_the_name_without_prefix():
    assert _run("explain", "EnableKeyRotation")[0] == 0


def test_unknown_runbook_names_the_value_and_suggests():
    code, out, err = _run("explain", "EnableKeyRotaton")
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
