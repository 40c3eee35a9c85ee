"""ASR-DisableUnrestrictedAccessToHighRiskPorts (EC2.19): revoke exactly the Internet-open rules on high-risk ports."""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.revoke_open_ingress_rules import (
    RemediationError,
    disable_unrestricted_access_to_high_risk_ports,
)
from tests.remediations.helpers.ec2 import (
    V4_WORLD,
    V6_WORLD,
    make_security_groups,
    permission,
    security_group_rules,
)

NAME = "DisableUnrestrictedAccessToHighRiskPorts"
OUTPUT = f"{NAME}.Output"
MISSING_GROUP = "sg-0123456789abcdef0"


pytestmark = pytest.mark.usefixtures("no_default_amis")


def _ids(ec2, group_id: str, **match) -> set[str]:
    rules = security_group_rules(ec2, group_id)
    return {rid for rid, r in rules.items() if all(r.get(k) == v for k, v in match.items())}


@pytest.fixture
def groups(ec2):
    """A target group with offending and legitimate rules, and a bystander group."""
    sg = make_security_groups(ec2)
    target, other, bystander, prefix_list = sg["target"], sg["other"], sg["bystander"], sg["prefix_list"]
    ec2.authorize_security_group_ingress(
        GroupId=target,
        IpPermissions=[
            permission("tcp", 22, 22, **V4_WORLD),  # offending: SSH from the Internet (IPv4)
            permission("tcp", 3389, 3389, **V6_WORLD),  # offending: RDP from the Internet (IPv6)
            permission("tcp", 3300, 3400, **V4_WORLD),  # offending: range covering 3306 and 3389
            permission("udp", 1434, 1434, **V6_WORLD),  # offending: UDP 1434
            {"IpProtocol": "-1", **V4_WORLD},  # offending: all traffic
            permission("tcp", 443, 443, **V4_WORLD, **V6_WORLD),  # kept: not a high-risk port
            permission("tcp", 6000, 7000, **V4_WORLD),  # kept: a range containing no high-risk port
            permission("tcp", 22, 22, IpRanges=[{"CidrIp": "10.0.0.0/8"}]),  # kept: private CIDR
            permission("tcp", 22, 22, UserIdGroupPairs=[{"GroupId": other}]),  # kept: another security group
            permission("tcp", 3389, 3389, PrefixListIds=[{"PrefixListId": prefix_list}]),  # kept: prefix list
            permission("icmp", -1, -1, **V4_WORLD),  # kept: ICMP
        ],
    )
    ec2.authorize_security_group_ingress(GroupId=bystander, IpPermissions=[permission("tcp", 22, 22, **V4_WORLD)])
    return {"target": target, "bystander": bystander}


def _offending(ec2, group_id: str) -> set[str]:
    rules = security_group_rules(ec2, group_id)
    return {
        rid
        for rid, r in rules.items()
        if not r["IsEgress"]
        and (r.get("CidrIpv4") == "0.0.0.0/0" or r.get("CidrIpv6") == "::/0")
        and r["IpProtocol"] in ("tcp", "udp", "-1")
        and not (r["IpProtocol"] == "tcp" and r["FromPort"] in (443, 6000))
    }


def test_script_revokes_exactly_the_offending_rules(ec2, groups):
    target = groups["target"]
    before = security_group_rules(ec2, target)
    offending = _offending(ec2, target)
    assert len(offending) == 5

    out = disable_unrestricted_access_to_high_risk_ports({"SecurityGroupId": target}, None)

    after = security_group_rules(ec2, target)
    assert set(after) == set(before) - offending
    assert all(after[rid] == before[rid] for rid in after), "kept rules are unchanged"
    assert out["RevokedCount"] == "5"
    assert all(rid in out["RevokedRules"] for rid in offending)


def test_script_keeps_egress_and_the_bystander_group(ec2, groups):
    egress_before = _ids(ec2, groups["target"], IsEgress=True)
    bystander_before = security_group_rules(ec2, groups["bystander"])
    disable_unrestricted_access_to_high_risk_ports({"SecurityGroupId": groups["target"]}, None)
    assert _ids(ec2, groups["target"], IsEgress=True) == egress_before and egress_before
    assert security_group_rules(ec2, groups["bystander"]) == bystander_before


def test_script_missing_group_names_the_input(ec2):
    with pytest.raises(RemediationError, match=f"SecurityGroupId {MISSING_GROUP}: no such security group"):
        disable_unrestricted_access_to_high_risk_ports({"SecurityGroupId": MISSING_GROUP}, None)


# --- the document, through the local runner ---------------------------------------


def test_document_revokes_offending_rules_and_nothing_else(ec2, groups, run_runbook):
    target = groups["target"]
    before = security_group_rules(ec2, target)
    offending = _offending(ec2, target)
    bystander_before = security_group_rules(ec2, groups["bystander"])

    execution = run_runbook(NAME, SecurityGroupId=target)

    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    after = security_group_rules(ec2, target)
    assert set(after) == set(before) - offending
    assert all(after[rid] == before[rid] for rid in after)
    assert security_group_rules(ec2, groups["bystander"]) == bystander_before
    assert "Revoked 5 inbound rule(s)" in str(execution["Outputs"][OUTPUT])


def test_document_second_run_succeeds_and_changes_nothing(ec2, groups, run_runbook):
    run_runbook(NAME, SecurityGroupId=groups["target"])
    kept = security_group_rules(ec2, groups["target"])

    execution = run_runbook(NAME, SecurityGroupId=groups["target"])

    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert "nothing changed" in str(execution["Outputs"][OUTPUT])
    assert security_group_rules(ec2, groups["target"]) == kept


@pytest.mark.parametrize("bad", ["sg-XYZ", "vpc-0123456789abcdef0", "sg-0123456789abcdef0; rm", ""])
def test_document_rejects_a_malformed_group_id(ec2, groups, run_runbook, bad):
    before = security_group_rules(ec2, groups["target"])
    with pytest.raises(ParameterValidationError, match="SecurityGroupId"):
        run_runbook(NAME, SecurityGroupId=bad)
    assert security_group_rules(ec2, groups["target"]) == before


def test_document_fails_on_a_missing_group_naming_it(ec2, groups, run_runbook):
    before = security_group_rules(ec2, groups["target"])
    execution = run_runbook(NAME, SecurityGroupId=MISSING_GROUP)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"SecurityGroupId {MISSING_GROUP}: no such security group" in execution["FailureMessage"]
    assert security_group_rules(ec2, groups["target"]) == before
