"""ASR-DisablePublicAccessForSecurityGroup (EC2.13, EC2.14; CIS 1.2.0 4.1/4.2, PCI.EC2.5).

Our own runbook replaced AWS-DisablePublicAccessForSecurityGroup, which failed with
InvalidPermission.NotFound unless all four 22/3389 x 0.0.0.0/0 / ::/0 rules existed, is not
available in the China Regions, and left port ranges and all-traffic rules that reach SSH or RDP.
"""

from __future__ import annotations

import pytest

from asr import solution
from asr.playbooks import data
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts import revoke_open_ingress_rules as script
from remediation_runbooks.scripts.revoke_open_ingress_rules import (
    RemediationError,
    disable_public_access_for_security_group,
)
from tests.remediations.helpers.ec2 import (
    V4_WORLD,
    V6_WORLD,
    make_security_groups,
    permission,
    security_group_rules,
)

NAME = "DisablePublicAccessForSecurityGroup"
OUTPUT = f"{NAME}.Output"
MISSING_GROUP = "sg-0123456789abcdef0"

pytestmark = pytest.mark.usefixtures("no_default_amis")


@pytest.fixture
def groups(ec2):
    """A target group with rules that open SSH or RDP to the Internet, rules that must stay, and a bystander."""
    sg = make_security_groups(ec2)
    target, other, bystander, prefix_list = sg["target"], sg["other"], sg["bystander"], sg["prefix_list"]
    ec2.authorize_security_group_ingress(
        GroupId=target,
        IpPermissions=[
            permission("tcp", 22, 22, **V4_WORLD),  # offending: SSH from 0.0.0.0/0 only (no ::/0 rule)
            permission("tcp", 3389, 3389, **V6_WORLD),  # offending: RDP from ::/0 only
            permission("tcp", 0, 65535, **V4_WORLD),  # offending: every TCP port
            permission("udp", 22, 22, **V6_WORLD),  # offending: SSH port over UDP
            {"IpProtocol": "-1", **V6_WORLD},  # offending: all traffic
            permission("tcp", 443, 443, **V4_WORLD, **V6_WORLD),  # kept: HTTPS
            permission("tcp", 3390, 4000, **V4_WORLD),  # kept: a range without 22 or 3389
            permission("tcp", 22, 22, IpRanges=[{"CidrIp": "10.0.0.0/8"}]),  # kept: private CIDR
            permission("tcp", 3389, 3389, UserIdGroupPairs=[{"GroupId": other}]),  # kept: another group
            permission("tcp", 22, 22, PrefixListIds=[{"PrefixListId": prefix_list}]),  # kept: prefix list
            permission("icmp", -1, -1, **V4_WORLD),  # kept: ICMP
        ],
    )
    ec2.authorize_security_group_ingress(GroupId=bystander, IpPermissions=[permission("tcp", 22, 22, **V4_WORLD)])
    return {"target": target, "bystander": bystander}


def _offending(ec2, group_id: str) -> set[str]:
    rules = security_group_rules(ec2, group_id)

    def reaches(r) -> bool:
        if r["IpProtocol"] == "-1":
            return True
        return r["IpProtocol"] in ("tcp", "udp") and any(r["FromPort"] <= p <= r["ToPort"] for p in (22, 3389))

    return {
        rid
        for rid, r in rules.items()
        if not r["IsEgress"] and (r.get("CidrIpv4") == "0.0.0.0/0" or r.get("CidrIpv6") == "::/0") and reaches(r)
    }


def test_the_playbooks_run_our_runbook_not_the_aws_owned_document():
    remediation = data.remediations()[NAME]
    assert remediation.document == f"ASR-{NAME}"
    assert f"AWS-{NAME}" not in solution.AWS_OWNED_DOCUMENTS
    assert remediation.param == "GroupId"


def test_script_revokes_every_rule_that_opens_ssh_or_rdp_to_the_internet(ec2, groups):
    target = groups["target"]
    before = security_group_rules(ec2, target)
    offending = _offending(ec2, target)
    assert len(offending) == 5

    out = disable_public_access_for_security_group({"GroupId": target}, None)

    after = security_group_rules(ec2, target)
    assert set(after) == set(before) - offending
    assert all(after[rid] == before[rid] for rid in after), "kept rules are unchanged"
    assert out["RevokedCount"] == "5"


def test_script_one_ipv4_ssh_rule_is_enough(ec2):
    """The AWS document needed all four 22/3389 x IPv4/IPv6 rules; one is the usual case."""
    sg = make_security_groups(ec2)
    ec2.authorize_security_group_ingress(GroupId=sg["target"], IpPermissions=[permission("tcp", 22, 22, **V4_WORLD)])
    out = disable_public_access_for_security_group({"GroupId": sg["target"]}, None)
    assert out["RevokedCount"] == "1"
    assert [r for r in security_group_rules(ec2, sg["target"]).values() if not r["IsEgress"]] == []


def test_script_missing_group_names_the_field_and_value(ec2):
    with pytest.raises(RemediationError, match=f"GroupId {MISSING_GROUP}: no such security group"):
        disable_public_access_for_security_group({"GroupId": MISSING_GROUP}, None)


def test_script_waits_a_bounded_time_for_the_revoke_to_show(ec2, groups, monkeypatch):
    """DescribeSecurityGroupRules is eventually consistent: a stale read is retried, never slept for real."""
    real = script._ingress_rules
    stale = real(script.boto3.client("ec2"), groups["target"])
    reads = iter([stale, stale, stale])  # the listing, then two stale read-backs
    monkeypatch.setattr(script, "_ingress_rules", lambda ec2_, gid: next(reads, None) or real(ec2_, gid))
    slept: list[float] = []
    out = disable_public_access_for_security_group({"GroupId": groups["target"]}, None, sleep=slept.append)
    assert out["RevokedCount"] == "5"
    assert slept == [script.VERIFY_INTERVAL_SECONDS] * 2


def test_script_reports_failure_when_the_rules_never_go(ec2, groups, monkeypatch):
    stale = script._ingress_rules(script.boto3.client("ec2"), groups["target"])
    monkeypatch.setattr(script, "_ingress_rules", lambda *_: stale)
    slept: list[float] = []
    with pytest.raises(RemediationError, match=f"GroupId {groups['target']}: rules .* are still present"):
        disable_public_access_for_security_group({"GroupId": groups["target"]}, None, sleep=slept.append)
    assert len(slept) == script.VERIFY_ATTEMPTS - 1


# --- the document, through the local runner ---------------------------------------


def test_document_revokes_offending_rules_and_nothing_else(ec2, groups, run_runbook):
    target = groups["target"]
    before = security_group_rules(ec2, target)
    offending = _offending(ec2, target)
    bystander = security_group_rules(ec2, groups["bystander"])

    execution = run_runbook(NAME, GroupId=target)

    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    after = security_group_rules(ec2, target)
    assert set(after) == set(before) - offending
    assert all(after[rid] == before[rid] for rid in after)
    assert security_group_rules(ec2, groups["bystander"]) == bystander
    assert "Revoked 5 inbound rule(s)" in str(execution["Outputs"][OUTPUT])


def test_document_second_run_succeeds_and_changes_nothing(ec2, groups, run_runbook):
    run_runbook(NAME, GroupId=groups["target"])
    kept = security_group_rules(ec2, groups["target"])
    execution = run_runbook(NAME, GroupId=groups["target"])
    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert "nothing changed" in str(execution["Outputs"][OUTPUT])
    assert security_group_rules(ec2, groups["target"]) == kept


@pytest.mark.parametrize("bad", ["sg-XYZ", "vpc-0123456789abcdef0", "sg-0123456789abcdef0; rm", ""])
def test_document_rejects_a_malformed_group_id(ec2, groups, run_runbook, bad):
    before = security_group_rules(ec2, groups["target"])
    with pytest.raises(ParameterValidationError, match="GroupId"):
        run_runbook(NAME, GroupId=bad)
    assert security_group_rules(ec2, groups["target"]) == before


def test_document_fails_on_a_missing_group_naming_it(ec2, groups, run_runbook):
    execution = run_runbook(NAME, GroupId=MISSING_GROUP)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"GroupId {MISSING_GROUP}: no such security group" in execution["FailureMessage"]
