"""``asr simulate``: a finding remediated end to end on emulated AWS from our synthesized templates.

Each simulation builds its own admin and member accounts on moto (the templates are synthesized once
per process and shared: asr.simulator.orchestration.templates), seeds the control's noncompliant
resource, runs the orchestrator and judges the control. ``asr simulate`` installs its own IAM
enforcer over the same synthesized templates and reports every denial in its trace (a denial fails
the simulation, so ``exit 0`` proves there was none): these tests run without the session's enforcer
(``no_iam``), which would only check the same calls twice.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from asr import cli, documents, solution
from asr.controls.mapping import security_control
from asr.playbooks import data
from asr.simulator import seeds
from asr.simulator.findings import custom_action_event, imported_event, make_finding

pytestmark = pytest.mark.no_iam  # asr simulate enforces IAM itself (see the module docstring)

ROOT = Path(__file__).resolve().parents[2]
MEMBER = "111111111111"
REGION = "us-east-1"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


def _main(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, out=out, err=err, stdin=io.StringIO(stdin))
    return code, out.getvalue(), err.getvalue()


def _finding(control: str = "S3.5", resource: str = "arn:aws:s3:::my-bucket", **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("resource_type", "AwsS3Bucket")
    kwargs.setdefault("standard_name", "security-control")
    kwargs.setdefault("standard_version", "2.0.0")
    return make_finding(control, resource, account_id=MEMBER, region=REGION, **kwargs)


def _write(tmp_path: Path, document: Any, name: str = "finding.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


# --- the trace ------------------------------------------------------------------------------


def test_s3_5_is_remediated_and_the_trace_says_how(tmp_path: Path):
    code, out, err = _main(["simulate", _write(tmp_path, _finding())])

    assert code == 0, out + err
    assert "asr simulate: running the orchestrator state machine" in err  # progress, on stderr
    assert "asr simulate" not in out and not out.lstrip().startswith("{")
    for expected in (
        "Control          SC S3.5 (security control S3.5): ASR-SC_2.0.0_S3.5 -> ASR-SetSSLBucketPolicy",
        # the seeder names its own bucket: the finding is rewritten, and the trace says so
        "Finding rewritten  Resources[0] AwsS3Bucket arn:aws:s3:::my-bucket -> the seeded AwsS3Bucket",
        "before: FAILED",
        "States entered   Event Has Findings? -> Process Findings -> Resolve Target -> Ready to Remediate? -> "
        "Schedule and Run Remediation -> Ticket Requested? -> Remediation Complete (SUCCEEDED)",
        f"ASR-SC_2.0.0_S3.5 in {MEMBER} us-east-1 as arn:aws:iam::{MEMBER}:role/SO0111-ASR-Orchestrator-Member",
        f"ASR-SetSSLBucketPolicy in {MEMBER} us-east-1 as arn:aws:iam::{MEMBER}:role/SO0111-SetSSLBucketPolicy-sim",
        '+      "Sid": "AllowSSLRequestsOnly"',  # the resource's state, before -> after
        "QUEUED (INFO)",
        "SUCCESS (INFO)",
        "Finding          workflow NEW -> RESOLVED",
        "Control after    PASSED",
        "0 denied",
        "Outcome          SUCCESS",
        "1 finding simulated: 1 remediated and PASSED",
    ):
        assert expected in out, f"{expected!r} not in the trace:\n{out}"
    # the accounts come from the synthesized templates
    assert solution.TEMPLATE_FILES[solution.MEMBER_ROLES_STACK] in out
    assert re.search(r"\((8\d) roles, (1\d\d) SSM documents\)", out), out


def test_json_from_stdin_event_is_one_object(tmp_path: Path):
    event = custom_action_event(
        [_finding("KMS.4", f"arn:aws:kms:{REGION}:{MEMBER}:key/{KEY_ID}", resource_type="AwsKmsKey")]
    )
    code, out, err = _main(["simulate", "--json", "-q", "-"], stdin=json.dumps(event))

    assert code == 0, out + err
    assert err == ""  # -q: no progress
    got = json.loads(out)
    assert isinstance(got, dict) and got["ok"] is True
    assert (got["outcome"], got["event_type"]) == ("SUCCESS", solution.EVENT_CUSTOM_ACTION)
    assert (got["verdict_before"]["status"], got["verdict_after"]["status"]) == ("FAILED", "PASSED")
    assert got["resource_state"]["changed"] is True
    assert got["remediation_runbook"] == "ASR-EnableKeyRotation"
    assert got["finding_updates"]["after"]["workflow"] == "RESOLVED"
    assert [n["status"] for n in got["sns_messages"]] == ["QUEUED", "SUCCESS"]
    assert got["iam"]["requests"] > 0 and got["iam"]["denied"] == []
    assert got["lambda_logs"] and all(json.loads(line)["logger"] for line in got["lambda_logs"])


def test_an_outcome_other_than_success_exits_1(tmp_path: Path):
    """An AutoTrigger import of a finding already NOTIFIED: the orchestrator stops it (NOT_NEW)."""
    finding = _finding()
    finding["Workflow"] = {"Status": "NOTIFIED"}
    code, out, err = _main(["simulate", "-q", _write(tmp_path, imported_event([finding]))])

    assert code == 1, out + err
    assert "Outcome          NOT_NEW" in out
    assert "(none started)" in out
    assert "Control after    FAILED" in out
    assert "Result           NOT OK" in out


# --- bad input: exit 2, naming what is wrong -----------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("{not json", "is not JSON"),
        ("[]", "holds no findings"),
        (json.dumps({"detail-type": "Other", "detail": {}}), "is not a Security Hub finding event"),
    ],
)
def test_unreadable_input_exits_2(tmp_path: Path, content: str, message: str):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    code, out, err = _main(["simulate", str(path)])
    assert (code, out) == (2, "")
    assert message in err and err.startswith("asr: error: ")


def test_a_finding_asr_cannot_take_to_a_runbook_exits_2(tmp_path: Path):
    no_entry = _finding("S3.99")
    code, _, err = _main(["simulate", _write(tmp_path, no_entry)])
    assert code == 2 and "NO_RUNBOOK" in err and "S3.99" in err
    malformed = _finding()
    del malformed["Resources"]
    code, _, err = _main(["simulate", _write(tmp_path, malformed)])
    assert code == 2 and "LAMBDA_ERROR" in err and "Resources" in err


def test_a_control_without_a_seeder_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    seeds.load_all()
    monkeypatch.delitem(seeds.SEEDERS, ("S3.5", "default"))
    code, out, err = _main(["simulate", _write(tmp_path, _finding())])
    assert (code, out) == (2, "")
    assert "control SC S3.5 (security control S3.5, resource type AwsS3Bucket) has no seeder" in err


def test_bad_namespace_exits_2(tmp_path: Path):
    code, _, err = _main(["simulate", "--namespace", "X", _write(tmp_path, _finding())])
    assert code == 2 and "--namespace 'X'" in err


# --- one control entry per remediation runbook ----------------------------------------------------

#: Remediations asr simulate cannot drive from a finding of their own, and why.
NOT_SIMULATED = {
    "ASR-CreateAccessLoggingBucket": "no control entry runs it: it runs first, as the pre-remediation of "
    "ConfigureS3BucketLogging (simulated through that remediation's control)",
}
#: Remediations that succeed without the control ever judging the resource PASSED: what it says instead.
NOT_PASSED = {
    # the instance is terminated: AWS Config evaluates a deleted resource NOT_APPLICABLE
    "ASR-TerminateEC2Instance": "NOT_APPLICABLE",
    # the secret is scheduled for deletion and stays FAILED until Secrets Manager deletes it
    "ASR-RemoveUnusedSecret": "FAILED",
}


def _entries_by_remediation() -> dict[str, tuple[str, str, str]]:
    """Remediation runbook -> one (playbook, control, security control) entry with a seeder (SC first)."""
    seeds.load_all()
    found: dict[str, tuple[str, str, str]] = {}
    for std in data.standards():
        for control in std.entries:
            target = std.control(control.remap) if control.remap else control
            document = data.remediations()[target.remediation].document
            sc = security_control(std.key, control.control_id)
            if document not in found and (sc, "default") in seeds.SEEDERS:
                found[document] = (std.key, control.control_id, sc)
    return found


ENTRIES = _entries_by_remediation()


def test_the_remediation_loop_covers_every_remediation_runbook():
    every = {r.document for r in data.remediations().values()}
    every |= {solution.remediation_document(name) for name in documents.remediation_names()}
    assert every - set(ENTRIES) == set(NOT_SIMULATED), "NOT_SIMULATED is stale: a remediation gained or lost a seeder"
    assert set(NOT_PASSED) <= set(ENTRIES)
    assert len(ENTRIES) >= 75


def _entry_finding(key: str, control_id: str) -> dict[str, Any]:
    from asr.explain import example_finding

    std = data.load_standard(key)
    return example_finding(std, std.control(control_id))


@pytest.mark.parametrize(("document", "entry"), sorted(ENTRIES.items()), ids=sorted(ENTRIES))
def test_each_remediation_turns_its_control_passed(tmp_path: Path, document: str, entry: tuple[str, str, str]):
    key, control_id, _ = entry
    code, out, err = _main(["simulate", "--json", "-q", _write(tmp_path, _entry_finding(key, control_id))])
    assert out, err
    got = json.loads(out)
    assert got["remediation_runbook"] == document
    assert got["outcome"] == "SUCCESS", f"{key} {control_id}: {got['outcome']}: {got['message']}"
    assert got["iam"]["denied"] == []
    assert got["verdict_before"]["status"] == "FAILED"
    assert got["resource_state"]["changed"], f"{key} {control_id}: the resource did not change"
    if document in NOT_PASSED:
        assert (code, got["verdict_after"]["status"]) == (1, NOT_PASSED[document])
    else:
        assert (code, got["verdict_after"]["status"]) == (0, "PASSED"), got["verdict_after"]


# --- the examples -------------------------------------------------------------------------------

EXAMPLES = sorted((ROOT / "examples" / "findings").glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_is_remediated(path: Path):
    code, out, err = _main(["simulate", "-q", str(path)])
    assert code == 0, out + err


# --- docs/simulator.md stays true ----------------------------------------------------------------


def test_the_python_examples_of_docs_simulator_run():
    text = (ROOT / "docs" / "simulator.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 2
    for number, block in enumerate(blocks, 1):
        exec(compile(block, f"docs/simulator.md python block {number}", "exec"), {"__name__": "docs_example"})
