"""Issue 14, item 4: ParseInput refuses what is not the finding's own, naming field and value.

Run through the generated control runbooks (their real ParseInput inputs) on the local runner:
a non-string ``RelatedAWSResources:0/name``; a resource whose ARN names another account than
``AwsAccountId`` or another Region than the finding's ``Region``; account ids with Unicode
digits or a trailing newline. Nothing is remediated and the finding stays NEW. Global
resources (IAM, S3: no account or Region in the ARN) are still accepted.
"""

from __future__ import annotations

import pytest

from asr.playbooks import data
from asr.simulator.execution import Status
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION
from tests.playbooks.harness import (
    OTHER_REGION,
    finding_for,
    import_finding,
    remediation_runs,
    run_control,
    sample,
    stored_finding,
    stub_registry,
)

SC = "SC"


def _refused(std, control_id: str, finding: dict, *, document: str, imported: bool = True):
    if imported:
        import_finding(finding, ACCOUNT)  # the finding's account, whatever its AwsAccountId says
    runner, execution = run_control(stub_registry(), std, control_id, finding, account=ACCOUNT)
    assert execution.status is Status.FAILED
    assert execution.executed_steps() == ["ParseInput"]
    assert not remediation_runs(runner, document)
    if imported:
        assert stored_finding(finding["Id"], ACCOUNT)["Workflow"]["Status"] == "NEW"
    return execution.failure_message


def test_a_non_string_config_rule_name_is_named(shared_aws):
    """CloudWatch.16 reads its control parameters from the finding's Config rule."""
    std = data.load_standard(SC)
    rid, _ = sample("log_group_arn")
    finding = finding_for(std, "CloudWatch.16", rid, config_rule_name="securityhub-cw-16")
    finding["ProductFields"]["RelatedAWSResources:0/name"] = 12345

    # (BatchImportFindings would refuse it: it reaches the runbook from the event, not from Security Hub)
    message = _refused(std, "CloudWatch.16", finding, document="ASR-SetLogGroupRetentionDays", imported=False)

    assert "finding field ProductFields.RelatedAWSResources:0/name" in message and "12345" in message


@pytest.mark.parametrize(
    ("arn", "named"),
    [
        (f"arn:aws:lambda:{REGION}:{OTHER_ACCOUNT}:function:fn", f"names account '{OTHER_ACCOUNT}'"),
        (f"arn:aws:lambda:{OTHER_REGION}:{ACCOUNT}:function:fn", f"names Region '{OTHER_REGION}'"),
    ],
    ids=["other-account", "other-region"],
)
def test_a_resource_outside_the_findings_account_or_region_is_refused(shared_aws, arn, named):
    std = data.load_standard(SC)
    finding = finding_for(std, "Lambda.1", arn, account=ACCOUNT, region=REGION, resource_type="AwsLambdaFunction")
    finding["Resources"][0].pop("Region", None)  # only the ARN says where the resource is

    message = _refused(std, "Lambda.1", finding, document="ASR-RemoveLambdaPublicAccess")

    assert f"finding field Resources[0].Id {named}" in message and arn in message


def test_a_resource_region_other_than_the_findings_is_refused(shared_aws):
    std = data.load_standard(SC)
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn"
    finding = finding_for(std, "Lambda.1", arn, resource_type="AwsLambdaFunction")
    finding["Resources"][0]["Region"] = OTHER_REGION

    message = _refused(std, "Lambda.1", finding, document="ASR-RemoveLambdaPublicAccess")

    assert f"finding field Resources[0].Region is not the finding's Region {REGION}" in message
    assert repr(OTHER_REGION) in message


@pytest.mark.parametrize("account", ["\u0661" * 12, f"{ACCOUNT}\n"], ids=["arabic-indic-digits", "trailing-newline"])
def test_account_ids_are_ascii_and_whole(shared_aws, account):
    std = data.load_standard(SC)
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn"
    finding = finding_for(std, "Lambda.1", arn, resource_type="AwsLambdaFunction")
    finding["AwsAccountId"] = account

    message = _refused(std, "Lambda.1", finding, document="ASR-RemoveLambdaPublicAccess")

    assert "finding field AwsAccountId is not a 12-digit account id" in message and repr(account) in message


@pytest.mark.parametrize(
    ("control", "regex"),
    [("IAM.8", "iam_user_arn"), ("S3.2", "s3_bucket_arn")],
)
def test_global_resources_without_account_or_region_in_their_arn_are_accepted(shared_aws, control, regex):
    std = data.load_standard(SC)
    target = std.control(std.control(control).remap or control)
    rem = data.remediations()[target.remediation]
    if rem.regex.name != regex:
        pytest.skip(f"{control} uses {rem.regex.name} now")
    rid, _ = sample(regex)
    finding = finding_for(std, control, rid)
    import_finding(finding)
    runner, execution = run_control(stub_registry(), std, target.control_id, finding)
    assert execution.status is Status.SUCCESS, execution.failure_message
    assert len(remediation_runs(runner, rem.document)) == 1
