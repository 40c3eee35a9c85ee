"""examples/findings/: realistic Security Hub findings, each one ASR remediates.

Every expectation is derived from the example's own fields (GeneratorId, ProductFields,
Compliance, Resources[0]) and the playbook data, then compared with what ``asr explain
--json`` says: the examples stay true to the product, and the product reads them as
Security Hub would send them. ``asr simulate`` runs the same files (tests/cli/test_simulate.py).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from asr import cli, solution
from asr.controls.mapping import security_control
from asr.playbooks import data
from asr.simulator.seeds import load_all

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FILES = sorted((EXAMPLES / "findings").glob("*.json"))
MEMBER = "111111111111"  # documentation-style account ids only
ADMIN = "123456789012"
REGION = "us-east-1"
PRODUCT_ARN = f"arn:aws:securityhub:{REGION}::product/aws/securityhub"
# control/<long-name>/v/<version>/<control> in ProductFields.StandardsControlArn
_CONTROL_ARN = re.compile(
    r"^arn:aws:securityhub:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"control/(?P<long>[a-z0-9-]+)/v/(?P<version>[\d.]+)/(?P<control>.+)$"
)
_FINDING_UUID = re.compile(r"/finding/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _findings(document: Any) -> list[dict[str, Any]]:
    """The findings of an example file: a bare finding, or the EventBridge event's detail.findings."""
    if "detail-type" in document:
        return document["detail"]["findings"]
    return [document]


def _documents() -> dict[str, Any]:
    return {path.name: json.loads(path.read_text(encoding="utf-8")) for path in FILES}


def _standard(long_name: str, version: str) -> data.Standard:
    matches = [s for s in data.standards() if s.long_name == long_name and s.version == version]
    assert len(matches) == 1, f"no single playbook for standard {long_name} {version}: {matches}"
    return matches[0]


def _expected(finding: dict[str, Any]) -> dict[str, Any]:
    """What ASR must do with ``finding``, read from its own fields and the playbook data."""
    if finding["GeneratorId"].startswith("security-control/"):
        std = data.load_standard("SC")
        control = finding["Compliance"]["SecurityControlId"]
        assert finding["GeneratorId"] == f"security-control/{control}"
        assert "StandardsControlArn" not in finding["ProductFields"], "a consolidated finding names no standard"
    else:
        match = _CONTROL_ARN.match(finding["ProductFields"]["StandardsControlArn"])
        assert match, finding["ProductFields"]["StandardsControlArn"]
        std = _standard(match["long"], match["version"])
        control = match["control"]
        assert (match["account"], match["region"]) == (finding["AwsAccountId"], finding["Region"])
        assert finding["GeneratorId"] == std.generator(control), "GeneratorId is the one Security Hub sends"
    entry = std.control(control)
    target = std.control(entry.remap) if entry.remap else entry
    resource = finding["Resources"][0]
    return {
        "playbook": std.key,
        "standard": std.short_name,
        "standard_version": std.version,
        "control": control,
        "remapped_to": entry.remap,
        "control_runbook": std.control_runbook(target.control_id),
        "remediation_runbook": data.remediations()[target.remediation].document,
        "finding_id": finding["Id"],
        "finding_resource_id": resource["Id"],
        "resource_type": resource["Type"],
        "account": finding["AwsAccountId"],
        "region": resource["Region"],
        "security_control": security_control(std.key, control),
    }


def _explain(path: Path) -> list[dict[str, Any]]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["explain", str(path), "--json"], out=out, err=err)
    assert code == 0, f"asr explain {path.name} exited {code}: {err.getvalue()}{out.getvalue()[-2000:]}"
    return json.loads(out.getvalue())


def test_there_are_examples():
    # at least 15 distinct controls (below) need at least 15 files
    assert len(FILES) >= 15, [p.name for p in FILES]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_asr_explain_would_remediate_each_example(path: Path):
    document = json.loads(path.read_text(encoding="utf-8"))
    findings = _findings(document)
    explained = _explain(path)
    assert len(explained) == len(findings)
    for finding, got in zip(findings, explained, strict=True):
        want = _expected(finding)
        assert got["outcome"] == "WOULD_REMEDIATE", got["message"]
        for key in ("playbook", "standard", "standard_version", "control", "remapped_to", "control_runbook"):
            assert got[key] == want[key], key
        for key in ("remediation_runbook", "finding_id", "finding_resource_id", "resource_type", "account"):
            assert got[key] == want[key], key
        assert got["region"] == want["region"]
        # the finding carries the consolidated control id the playbook entry stands for
        assert finding["Compliance"]["SecurityControlId"] == want["security_control"]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_example_is_shaped_as_security_hub_sends_it(path: Path):
    for finding in _findings(json.loads(path.read_text(encoding="utf-8"))):
        fields, resource = finding["ProductFields"], finding["Resources"][0]
        assert finding["SchemaVersion"] == "2018-10-08"
        assert finding["ProductArn"] == PRODUCT_ARN
        assert (finding["AwsAccountId"], finding["Region"], resource["Region"]) == (MEMBER, REGION, REGION)
        assert finding["Id"].startswith(f"arn:aws:securityhub:{REGION}:{MEMBER}:")
        assert fields["aws/securityhub/FindingId"] == f"{finding['ProductArn']}/{finding['Id']}"
        assert fields["aws/securityhub/ProductName"] == "Security Hub"
        assert fields["Resources:0/Id"] == resource["Id"]
        assert (finding["Compliance"]["Status"], finding["Workflow"]["Status"], finding["RecordState"]) == (
            "FAILED",
            "NEW",
            "ACTIVE",
        )
        assert finding["Severity"]["Label"] == finding["FindingProviderFields"]["Severity"]["Label"]
        assert resource["Partition"] == "aws" and resource["Type"]
        # Details, when present, are keyed by the resource's own type, as in ASFF
        assert set(resource.get("Details", {resource["Type"]: {}})) == {resource["Type"]}
        # a standard-specific finding names its standard in its id and its control ARN
        if not finding["GeneratorId"].startswith("security-control/"):
            assert f":{MEMBER}:subscription/" in finding["Id"] and fields["StandardsControlArn"]
        else:
            assert f"security-control/{finding['Compliance']['SecurityControlId']}/finding/" in finding["Id"]
        assert re.search(
            r"/finding/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", finding["Id"]
        )


def test_examples_cover_fifteen_controls_eight_services_both_shapes_and_every_playbook():
    findings = [f for document in _documents().values() for f in _findings(document)]
    expected = [_expected(f) for f in findings]
    controls = {e["security_control"] for e in expected}
    services = {c.split(".", 1)[0] for c in controls}
    assert len(controls) >= 15, sorted(controls)
    assert len(services) >= 8, sorted(services)
    playbooks = {e["playbook"] for e in expected}
    assert playbooks == set(data.STANDARD_KEYS), "one example per playbook at least"
    consolidated = [f for f in findings if f["GeneratorId"].startswith("security-control/")]
    assert consolidated and len(consolidated) < len(findings), "both finding shapes"
    ruleset = [f for f in findings if f["GeneratorId"].startswith("arn:aws:securityhub:::ruleset/")]
    assert ruleset, "a CIS 1.2.0 finding with its legacy ruleset GeneratorId"


def test_examples_include_a_custom_action_event():
    events = {n: d for n, d in _documents().items() if "detail-type" in d}
    assert events, "one EventBridge custom-action event file"
    for name, event in events.items():
        assert event["detail-type"] == solution.EVENT_CUSTOM_ACTION, name
        assert event["source"] == "aws.securityhub"
        assert (event["account"], event["region"]) == (ADMIN, REGION)
        assert event["detail"]["actionName"] == solution.CUSTOM_ACTION_NAME
        assert event["detail"]["actionDescription"] == solution.CUSTOM_ACTION_DESCRIPTION
        assert event["resources"] == [f"arn:aws:securityhub:{REGION}:{ADMIN}:action/custom/{solution.CUSTOM_ACTION_ID}"]


def test_every_example_has_a_seeder_for_asr_simulate():
    seeded = {control for control, _shape in load_all()}
    for name, document in _documents().items():
        for finding in _findings(document):
            control = finding["Compliance"]["SecurityControlId"]
            assert control in seeded, f"{name}: no seeder for {control} in asr/simulator/seeds"


def test_examples_readme_describes_every_file():
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([\w.-]+\.json)`", readme))
    assert named == {p.name for p in FILES}, named ^ {p.name for p in FILES}
    assert "asr explain" in readme and "asr simulate" in readme
