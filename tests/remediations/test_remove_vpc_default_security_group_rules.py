"""ASR-RemoveVPCDefaultSecurityGroupRules (EC2.2): close a VPC's default security group, nothing else."""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.remove_vpc_default_security_group_rules import (
    RemediationError,
    remove_vpc_default_security_group_rules,
)
from tests.remediations.helpers.ec2 import security_group_rules

NAME = "RemoveVPCDefaultSecurityGroupRules"
OUTPUT = "RemoveRulesAndVerify.Output"
MISSING_GROUP = "sg-0123456789abcdef0"


pytestmark = pytest.mark.usefixtures("no_default_amis")


def _default_group(ec2, vpc_id: str) -> str:
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    return groups[0]["GroupId"]


@pytest.fixture
def vpc(ec2):
    """A VPC whose default group allows itself in, the world out (as AWS creates it) plus more;
    a custom group in the same VPC and the default group of another VPC as bystanders."""
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    default = _default_group(ec2, vpc_id)
    ec2.authorize_security_group_ingress(
        GroupId=default,
        IpPermissions=[
            {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": default}]},
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
        ],
    )
    ec2.authorize_security_group_egress(
        GroupId=default, IpPermissions=[{"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]
    )
    custom = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=custom,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    return {"default": default, "custom": custom, "other_default": _default_group(ec2, other_vpc), "vpc": vpc_id}


def _bystanders(ec2, vpc) -> dict:
    group = ec2.describe_security_groups(GroupIds=[vpc["default"]])["SecurityGroups"][0]
    return {
        "custom": security_group_rules(ec2, vpc["custom"]),
        "other_default": security_group_rules(ec2, vpc["other_default"]),
        "target_identity": (group["GroupName"], group["Description"], group["VpcId"], group.get("Tags")),
    }


def test_script_revokes_every_rule_of_the_default_group(ec2, vpc):
    assert len(security_group_rules(ec2, vpc["default"])) == 4
    out = remove_vpc_default_security_group_rules({"GroupId": vpc["default"]}, None)
    assert security_group_rules(ec2, vpc["default"]) == {}
    assert out["VpcId"] == vpc["vpc"]
    assert out["RevokedIngressRules"] != "none" and out["RevokedEgressRules"] != "none"


def test_script_refuses_a_group_that_is_not_default(ec2, vpc):
    before = security_group_rules(ec2, vpc["custom"])
    with pytest.raises(RemediationError, match=f"GroupId {vpc['custom']} is security group 'app', not the default"):
        remove_vpc_default_security_group_rules({"GroupId": vpc["custom"]}, None)
    assert security_group_rules(ec2, vpc["custom"]) == before


def test_script_missing_group_names_the_input(ec2):
    with pytest.raises(RemediationError, match=f"GroupId {MISSING_GROUP}: no such security group"):
        remove_vpc_default_security_group_rules({"GroupId": MISSING_GROUP}, None)


# --- the document, through the local runner ---------------------------------------


def test_document_closes_the_default_group_and_nothing_else(ec2, vpc, run_runbook):
    bystanders = _bystanders(ec2, vpc)

    execution = run_runbook(NAME, GroupId=vpc["default"])

    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert security_group_rules(ec2, vpc["default"]) == {}
    assert _bystanders(ec2, vpc) == bystanders
    assert "Revoked 2 inbound and 2 outbound rule(s)" in str(execution["Outputs"][OUTPUT])


def test_document_second_run_succeeds_and_changes_nothing(ec2, vpc, run_runbook):
    run_runbook(NAME, GroupId=vpc["default"])
    bystanders = _bystanders(ec2, vpc)
    execution = run_runbook(NAME, GroupId=vpc["default"])
    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert "nothing changed" in str(execution["Outputs"][OUTPUT])
    assert security_group_rules(ec2, vpc["default"]) == {}
    assert _bystanders(ec2, vpc) == bystanders


@pytest.mark.parametrize("bad", ["default", "sg-ZZZZZZZZ", "vpc-0123456789abcdef0"])
def test_document_rejects_a_malformed_group_id(ec2, vpc, run_runbook, bad):
    before = security_group_rules(ec2, vpc["default"])
    with pytest.raises(ParameterValidationError, match="GroupId"):
        run_runbook(NAME, GroupId=bad)
    assert security_group_rules(ec2, vpc["default"]) == before


def test_document_refuses_a_non_default_group_and_changes_nothing(ec2, vpc, run_runbook):
    before = {g: security_group_rules(ec2, vpc[g]) for g in ("default", "custom")}
    execution = run_runbook(NAME, GroupId=vpc["custom"])
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"GroupId {vpc['custom']} is security group 'app', not the default" in execution["FailureMessage"]
    assert {g: security_group_rules(ec2, vpc[g]) for g in ("default", "custom")} == before


def test_document_fails_on_a_missing_group_naming_it(ec2, vpc, run_runbook):
    execution = run_runbook(NAME, GroupId=MISSING_GROUP)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"GroupId {MISSING_GROUP}: no such security group" in execution["FailureMessage"]


# --- read-back on an eventually consistent API --------------------------------------


def test_script_reads_back_again_while_the_revoked_rules_still_show(ec2, vpc, monkeypatch):
    """DescribeSecurityGroupRules is eventually consistent: a stale read-back is retried (bounded), no real sleep."""
    from remediation_runbooks.scripts import remove_vpc_default_security_group_rules as script

    real = script._rule_ids
    stale = real(script.boto3.client("ec2"), vpc["default"])
    reads = iter([stale, stale])  # the listing, then one stale read-back
    monkeypatch.setattr(script, "_rule_ids", lambda ec2_, gid: next(reads, None) or real(ec2_, gid))
    slept: list[float] = []
    out = remove_vpc_default_security_group_rules({"GroupId": vpc["default"]}, None, sleep=slept.append)
    assert "closed" in out["Message"]
    assert slept == [script.VERIFY_INTERVAL_SECONDS]


def test_script_fails_when_the_rules_never_go(ec2, vpc, monkeypatch):
    from remediation_runbooks.scripts import remove_vpc_default_security_group_rules as script

    stale = script._rule_ids(script.boto3.client("ec2"), vpc["default"])
    monkeypatch.setattr(script, "_rule_ids", lambda *_: stale)
    slept: list[float] = []
    with pytest.raises(RemediationError, match=f"GroupId {vpc['default']}: rules .* are still present"):
        remove_vpc_default_security_group_rules({"GroupId": vpc["default"]}, None, sleep=slept.append)
    assert len(slept) == script.VERIFY_ATTEMPTS - 1
