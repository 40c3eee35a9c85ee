"""AutoTrigger rules, as synthesized, against findings from the fixture generator."""

from __future__ import annotations

import pytest

from asr import solution
from asr.playbooks import data
from asr.simulator.findings import imported_event, make_finding
from tests.infrastructure.conftest import resources_of
from tests.playbooks.event_pattern import matches, resolve

A, B, C = "111111111111", "222222222222", "333333333333"


def rule_pattern(
    templates, key: str, control_id: str, ids: str = "ALL", strategy: str = "INCLUDE", partition: str = "aws"
) -> dict:
    std = data.load_standard(key)
    admin = templates[solution.playbook_admin_template(key)]
    name = solution.auto_trigger_rule(std.short_name, std.version, control_id)
    (rule,) = [r for r in resources_of(admin, "AWS::Events::Rule").values() if r["Properties"]["Name"] == name]
    params = {"TargetAccountIDs": ids, "TargetAccountIDsStrategy": strategy}
    return resolve(rule["Properties"]["EventPattern"], params, admin.get("Conditions", {}), partition)


def event(key: str, control_id: str, account: str = A, region: str = "us-east-1", **changes) -> dict:
    std = data.load_standard(key)
    finding = make_finding(
        control_id,
        f"arn:aws:s3:::bucket-{account}",
        resource_type="AwsS3Bucket",
        standard_name=std.long_name,
        standard_version=std.version,
        account_id=account,
        region=region,
    )
    for path, value in changes.items():
        node = finding
        *parents, last = path.split("__")
        for p in parents:
            node = node[p]
        node[last] = value
    return imported_event([finding])


@pytest.mark.parametrize(
    ("key", "control_id"),
    [
        ("SC", "S3.2"),
        ("SC", "S3.8"),
        ("AFSBP", "S3.2"),
        ("CIS120", "2.3"),
        ("CIS140", "2.1.5.2"),
        ("CIS300", "2.1.1"),
        ("PCI321", "PCI.S3.2"),
        ("NIST80053", "EC2.14"),
    ],
)
def test_rule_matches_a_new_failed_finding_of_its_control_only(templates, key, control_id):
    pattern = rule_pattern(templates, key, control_id)
    assert matches(pattern, event(key, control_id))
    assert matches(pattern, event(key, control_id, Compliance__Status="WARNING"))
    assert not matches(pattern, event(key, control_id, Compliance__Status="PASSED"))
    assert not matches(pattern, event(key, control_id, Workflow__Status="NOTIFIED"))
    assert not matches(pattern, event(key, control_id, RecordState="ARCHIVED"))
    other = "S3.5" if key in ("SC", "AFSBP") else "PCI.S3.5" if key == "PCI321" else "1.8" if key != "CIS120" else "2.2"
    if key == "NIST80053":
        other = "EC2.13"
    assert not matches(pattern, event(key, other))
    # a finding of the same control id from another standard is not this rule's
    foreign = "AFSBP" if key != "AFSBP" else "NIST80053"
    if control_id in {c.control_id for c in data.load_standard(foreign).entries}:
        assert not matches(pattern, event(foreign, control_id))


def test_consolidated_rules_match_the_security_control_generator_id(templates):
    finding_event = event("SC", "Lambda.1")
    assert finding_event["detail"]["findings"][0]["GeneratorId"] == "security-control/Lambda.1"
    assert matches(rule_pattern(templates, "SC", "Lambda.1"), finding_event)


def test_cis120_rule_names_the_partition(templates):
    pattern = rule_pattern(templates, "CIS120", "2.3", partition="aws-us-gov")
    assert matches(pattern, event("CIS120", "2.3", region="us-gov-west-1"))
    assert not matches(
        rule_pattern(templates, "CIS120", "2.3", partition="aws"), event("CIS120", "2.3", region="us-gov-west-1")
    )


@pytest.mark.parametrize(
    ("ids", "strategy", "remediated"),
    [
        ("ALL", "INCLUDE", {A, B, C}),
        ("ALL", "EXCLUDE", {A, B, C}),  # the reference matched nothing here
        (f"{A},{B}", "INCLUDE", {A, B}),
        (f"{A}, {B}", "INCLUDE", {A, B}),  # spaces after commas are allowed by the parameter pattern
        (f"{A},{B}", "EXCLUDE", {C}),
        (A, "EXCLUDE", {B, C}),
    ],
)
def test_target_accounts(templates, ids, strategy, remediated):
    pattern = rule_pattern(templates, "SC", "S3.2", ids, strategy)
    assert {acct for acct in (A, B, C) if matches(pattern, event("SC", "S3.2", account=acct))} == remediated
