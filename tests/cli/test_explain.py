"""``asr explain``: golden text on realistic findings, every playbook entry, every outcome, bad input.

Goldens: tests/cli/golden/<name>.txt (or .json). After a deliberate change of the output,
regenerate them with ``ASR_UPDATE_GOLDEN=1 .venv/bin/pytest tests/cli`` and review the diff.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from asr import cli, explain, solution
from asr.playbooks import data
from lambdas.orchestrator import outcomes
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION
from tests.playbooks.harness import OTHER_REGION, RESOURCE_TYPES, finding_for, sample

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
GOLDEN = HERE / "golden"
UPDATE = os.environ.get("ASR_UPDATE_GOLDEN") == "1"

ENTRIES = [(s.key, c.control_id) for s in data.standards() for c in s.entries]


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err, stdin=io.StringIO(stdin))
    return code, out.getvalue(), err.getvalue()


def explained(*argv: str, stdin: str = "") -> tuple[int, list[dict]]:
    code, out, err = run("explain", "--json", *argv, stdin=stdin)
    assert code in (0, 1), err
    return code, json.loads(out)


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with ASR_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


# --- golden text -------------------------------------------------------------------------

GOLDEN_CASES = {
    # name: (arguments, exit code)
    "consolidated-lambda-1": (["consolidated-lambda-1.json"], 0),
    "custom-action-cis140": (["custom-action-cis140.json"], 0),
    "imported-afsbp": (["imported-afsbp.json"], 1),
    "findings-asr-stops-on": (["findings-asr-stops-on.json"], 1),
    "control-cis120-1.7": (["CIS120:1.7", "--namespace", "prod"], 0),
}


@pytest.mark.parametrize("name", GOLDEN_CASES)
def test_golden_text(name, monkeypatch):
    monkeypatch.chdir(FIXTURES)  # sources are shown as given: relative names keep the goldens portable
    argv, expected_code = GOLDEN_CASES[name]
    code, out, err = run("explain", *argv)
    assert (code, err) == (expected_code, "")
    _golden(f"{name}.txt", out)


def test_golden_json(monkeypatch):
    monkeypatch.chdir(FIXTURES)
    code, out, err = run("explain", "--json", "imported-afsbp.json")
    assert (code, err) == (1, "")
    _golden("imported-afsbp.json", out)


# --- every playbook entry ----------------------------------------------------------------


@pytest.mark.parametrize(("key", "control_id"), ENTRIES, ids=[f"{k}-{c}" for k, c in ENTRIES])
def test_every_entry_would_be_remediated(key, control_id):
    """A finding of each of the 359 entries, in its standard's shape, resolves to the right runbooks,
    account, Region, resource id and roles (as tests/playbooks/test_control_runbooks.py runs them)."""
    std = data.load_standard(key)
    control = std.control(control_id)
    target = std.control(control.remap or control_id)
    rem = data.remediations()[target.remediation]
    regional = target.scope == "regional"
    account, region = (OTHER_ACCOUNT, OTHER_REGION) if regional else (ACCOUNT, REGION)
    rid, expected = sample(rem.regex.name, account, region)
    if rem.group != rem.regex.group:
        expected = rem.regex.compiled.match(rid).group(rem.group)
    finding = finding_for(
        std, control_id, rid, account=account, region=region, resource_type=RESOURCE_TYPES.get(rem.regex.name, "Other")
    )
    x = explain.explain(finding, namespace="sim")
    assert x.outcome == explain.WOULD_REMEDIATE, x.message
    assert (x.standard, x.playbook, x.standard_version, x.control) == (std.short_name, key, std.version, control_id)
    assert x.remapped_to == control.remap
    assert x.control_runbook == solution.control_runbook(std.short_name, std.version, target.control_id)
    assert x.remediation_runbook == rem.document
    assert (x.account, x.region, x.resource_id) == (account, region, expected)
    assert x.roles["remediation"] == f"arn:aws:iam::{account}:role/{solution.remediation_role(rem.name, 'sim')}"
    assert x.roles["control_runbook"] == f"arn:aws:iam::{account}:role/{solution.ORCHESTRATOR_MEMBER_ROLE}"
    if rem.param:
        assert x.remediation_parameters[rem.param] == ([expected] if rem.is_list else expected)
    if control.metric_filter:  # the filter of the finding's control, not of its runbook's
        filters = data.metric_filters()[control.metric_filter]
        assert x.remediation_parameters["FilterName"] == filters["FilterName"]
    assert x.auto_trigger["rule"] == solution.auto_trigger_rule(std.short_name, std.version, control_id)
    assert x.auto_trigger["matches"] and x.auto_trigger["default"] == "DISABLED"
    assert "{{ParseInput" not in json.dumps(x.to_json())


def test_every_control_asr_controls_prints_is_accepted_by_explain():
    code, out, _ = run("controls", "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == len(ENTRIES) == 359
    code, results = explained(*(f"{r['playbook']}:{r['control']}" for r in rows))
    assert code == 0
    assert len(results) == len(rows)
    for row, result in zip(rows, results, strict=True):
        assert result["outcome"] == explain.WOULD_REMEDIATE, (row, result["message"])
        assert (result["playbook"], result["control"]) == (row["playbook"], row["control"])
        assert result["control_runbook"] == row["control_runbook"]
        assert result["remediation_runbook"] == row["remediation_runbook"]
        assert result["remapped_to"] == row["remapped_to"]


def test_a_bare_control_id_explains_it_in_every_playbook_that_has_it():
    """`asr explain EC2.4` (the issue's example) and a CIS id shared by three versions."""
    code, results = explained("EC2.4")
    assert code == 0
    expected = [s.key for s in data.standards() if any(c.control_id == "EC2.4" for c in s.entries)]
    assert [r["playbook"] for r in results] == expected and "SC" in expected
    assert {r["remediation_runbook"] for r in results} == {"ASR-TerminateEC2Instance"}
    _, results = explained("CIS:3.1")
    cis = [s.key for s in data.standards() if s.short_name == "CIS" and any(c.control_id == "3.1" for c in s.entries)]
    assert [r["playbook"] for r in results] == cis == ["CIS120", "CIS140", "CIS300"]


# --- outcomes ------------------------------------------------------------------------------


def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_outcomes_of_the_findings_asr_stops_on():
    code, results = explained(str(FIXTURES / "findings-asr-stops-on.json"))
    assert code == 1
    by_outcome = {r["outcome"]: r for r in results}
    assert [r["outcome"] for r in results] == [
        outcomes.LAMBDA_ERROR,
        outcomes.NO_RUNBOOK,
        outcomes.FAILED,
        outcomes.PLAYBOOK_NOT_ENABLED,
        outcomes.NO_RUNBOOK,
    ]
    assert "finding field AwsAccountId is missing" in by_outcome[outcomes.LAMBDA_ERROR]["message"]
    assert results[1]["control"] == "IAM.21" and "ASR-SC_2.0.0_IAM.21 does not exist" in results[1]["message"]
    assert results[1]["control_runbook"] is None and results[1]["remapped_to"] is None
    failed = by_outcome[outcomes.FAILED]
    assert (
        "resource id 'arn:aws:lambda:us-east-1:111111111111:function:not-a-bucket' does not match"
        in (failed["message"])
    )
    assert failed["control_runbook"] == "ASR-SC_2.0.0_S3.2"
    assert "standard nist-800-171 v2.0.0" in by_outcome[outcomes.PLAYBOOK_NOT_ENABLED]["message"]
    assert by_outcome[outcomes.PLAYBOOK_NOT_ENABLED]["standard"] is None
    assert "parameter /Solutions/SO0111/TorClient" in results[4]["message"] and results[4]["standard"] is None


def test_not_new_unless_the_custom_action_sends_it():
    finding = _fixture("custom-action-cis140.json")["detail"]["findings"][0]  # workflow NOTIFIED
    code, results = explained("-", stdin=json.dumps(finding))
    assert code == 1 and results[0]["outcome"] == outcomes.NOT_NEW
    assert results[0]["message"].startswith("Finding Workflow State is not NEW (NOTIFIED).")
    assert results[0]["auto_trigger"]["matches"] is False
    assert results[0]["auto_trigger"]["mismatches"] == ["Workflow.Status is 'NOTIFIED', the rule wants 'NEW'"]
    code, results = explained("--trigger", "custom-action", "-", stdin=json.dumps(finding))
    assert code == 0 and results[0]["event_type"] == solution.EVENT_CUSTOM_ACTION
    code, results = explained(str(FIXTURES / "custom-action-cis140.json"))  # the event's own detail-type
    assert code == 0 and results[0]["outcome"] == explain.WOULD_REMEDIATE


def test_the_not_new_message_is_the_orchestrators():
    """explain and resolve share lambdas/orchestrator/resolve.not_new_reason."""
    from lambdas.orchestrator.finding import Finding
    from lambdas.orchestrator.resolve import not_new_reason

    finding = _fixture("custom-action-cis140.json")["detail"]["findings"][0]
    x = explain.explain(finding, "Something else")
    assert x.outcome == outcomes.NOT_NEW
    assert x.message == not_new_reason("Something else", Finding.parse(finding))
    assert "Event type (detail-type) 'Something else' is neither" in x.message


def test_a_playbook_the_deployment_does_not_load():
    path = str(FIXTURES / "imported-afsbp.json")
    code, results = explained("--playbooks", "default", path)
    assert code == 1
    assert results[0]["outcome"] == outcomes.PLAYBOOK_NOT_ENABLED
    assert "set LoadAFSBPAdminStack=yes on the admin stack and LoadAFSBPMemberStack=yes" in results[0]["message"]
    assert results[1]["outcome"] == outcomes.NOT_NEW  # NOT_NEW is decided first, as in resolve
    code, results = explained("--playbooks", "SC,afsbp", path)
    assert results[0]["outcome"] == explain.WOULD_REMEDIATE


def test_an_event_with_many_findings_and_a_findings_object_and_a_list():
    event = _fixture("imported-afsbp.json")
    findings = event["detail"]["findings"]
    for document in (event, {"findings": findings}, {"Findings": findings}, findings):
        code, results = explained("-", stdin=json.dumps(document))
        assert code == 1
        assert [r["outcome"] for r in results] == [explain.WOULD_REMEDIATE, outcomes.NOT_NEW]


def test_the_namespace_names_the_remediation_roles():
    _, results = explained("--namespace", "prod", "SC:S3.9")
    roles = results[0]["roles"]
    assert roles["remediation"] == "arn:aws:iam::111111111111:role/SO0111-ConfigureS3BucketLogging-prod"
    assert roles["pre_remediations"] == ["arn:aws:iam::111111111111:role/SO0111-CreateAccessLoggingBucket-prod"]
    _, results = explained("SC:S3.9")
    assert results[0]["roles"]["remediation"].endswith(":role/SO0111-ConfigureS3BucketLogging-<namespace>")


def test_control_parameters_show_the_default_and_their_source():
    finding = _fixture("custom-action-cis140.json")["detail"]["findings"][0]
    finding["Workflow"]["Status"] = "NEW"
    x = explain.explain(finding)
    assert x.outcome == explain.WOULD_REMEDIATE  # the Config rule is not read: no AWS call
    _, results = explained("SC:EC2.4")
    assert results[0]["control_parameters"] == {
        "allowedDays": {"remediation_parameter": "AllowedDays", "default": 30, "from": "the runbook's default"}
    }


# --- bad input: exit 2, naming what ---------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("{not json", "is not JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
        ("[]", "holds no findings"),
        ('{"findings": []}', "findings holds no findings"),
        ('{"findings": {"Id": "x"}}', "findings must be a list of findings"),
        ('"a finding"', "holds a JSON str"),
        ('{"detail-type": "Security Hub Insight Results", "detail": {}}', "detail-type 'Security Hub Insight Results'"),
        ('{"detail-type": "Security Hub Findings - Imported", "detail": {}}', "detail.findings must be a list"),
        ('{"detail-type": "Security Hub Findings - Imported", "detail": {"findings": []}}', "holds no findings"),
    ],
)
def test_bad_input_exits_2_naming_it(tmp_path, content, message):
    path = tmp_path / "finding.json"
    path.write_text(content)
    code, out, err = run("explain", str(path))
    assert (code, out) == (2, "")
    assert err.startswith("asr: error: ") and message in err and str(path) in err
    code, out, err = run("explain", "-", stdin=content)
    assert code == 2 and "stdin" in err and message in err


def test_a_missing_file_is_named():
    code, out, err = run("explain", "no-such-finding.json")
    assert (code, out) == (2, "")
    assert "cannot read finding file 'no-such-finding.json'" in err


def test_a_runbook_name_points_to_asr_runbook():
    code, _, err = run("explain", "ASR-EnableKeyRotation")
    assert code == 2
    assert "'ASR-EnableKeyRotation' is a remediation runbook, not a finding: 'asr runbook ASR-EnableKeyRotation'" in err
    code, _, err = run("explain", "ASR-CIS_1.2.0_1.5")
    assert code == 2 and "'asr explain CIS120:1.5'" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--playbooks", "SC,ISO27001"], "--playbooks 'SC,ISO27001': 'ISO27001' is not a playbook"),
        (["--namespace", "Prod_1"], "--namespace 'Prod_1' is not a member-roles Namespace"),
    ],
)
def test_bad_options_exit_2(argv, message):
    code, _, err = run("explain", *argv, "SC:EC2.4")
    assert code == 2 and message in err


# --- the defaults explain states are the stacks' ---------------------------------------------


def test_stated_defaults_are_the_playbook_stacks():
    from asr.playbooks import stacks

    assert explain.AUTO_TRIGGER_DEFAULT == stacks.DISABLED
    assert explain.CONTROL_AVAILABLE == stacks.AVAILABLE


@pytest.mark.synth
def test_loaded_by_default_is_the_admin_template():
    from asr.iam.roles import synthesized_templates

    admin = synthesized_templates()[solution.TEMPLATE_FILES[solution.ADMIN_STACK]]
    defaults = {k: admin["Parameters"][solution.load_admin_parameter(k)]["Default"] for k in data.STANDARD_KEYS}
    assert [k for k, v in defaults.items() if v == "yes"] == list(explain.LOADED_BY_DEFAULT)
