"""ASR-RevokeUnauthorizedInboundRules (EC2.18): revoke exactly the Internet-open rules on unauthorized ports."""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.revoke_open_ingress_rules import (
    RemediationError,
    revoke_unauthorized_inbound_rules,
)
from tests.remediations.helpers.ec2 import (
    V4_WORLD,
    V6_WORLD,
    make_security_groups,
    permission,
    security_group_rules,
)

NAME = "RevokeUnauthorizedInboundRules"
OUTPUT = f"{NAME}.Output"
MISSING_GROUP = "sg-0123456789abcdef0"

pytestmark = pytest.mark.usefixtures("no_default_amis")


def _find(ec2, group_id: str, protocol: str, low: int, high: int, source: str) -> str:
    for rid, r in security_group_rules(ec2, group_id).items():
        cidr = (
            r.get("CidrIpv4")
            or r.get("CidrIpv6")
            or r.get("PrefixListId")
            or r.get("ReferencedGroupInfo", {}).get("GroupId")
        )
        if not r["IsEgress"] and (r["IpProtocol"], r["FromPort"], r["ToPort"], cidr) == (protocol, low, high, source):
            return rid
    raise AssertionError(f"no rule {protocol} {low}-{high} from {source}")


@pytest.fixture
def groups(ec2):
    sg = make_security_groups(ec2)
    target, other, bystander, prefix_list = sg["target"], sg["other"], sg["bystander"], sg["prefix_list"]
    ec2.authorize_security_group_ingress(
        GroupId=target,
        IpPermissions=[
            permission("tcp", 22, 22, **V4_WORLD),
            permission("tcp", 8000, 8080, **V6_WORLD),
            permission("tcp", 0, 65535, **V4_WORLD),
            permission("udp", 53, 53, **V4_WORLD),
            {"IpProtocol": "-1", **V6_WORLD},
            permission("tcp", 443, 443, **V4_WORLD, **V6_WORLD),
            permission("tcp", 80, 80, **V4_WORLD),
            permission("tcp", 22, 22, IpRanges=[{"CidrIp": "172.16.0.0/12"}]),
            permission("tcp", 5432, 5432, UserIdGroupPairs=[{"GroupId": other}]),
            permission("tcp", 3389, 3389, PrefixListIds=[{"PrefixListId": prefix_list}]),
            permission("icmp", -1, -1, **V4_WORLD),
        ],
    )
    ec2.authorize_security_group_ingress(GroupId=bystander, IpPermissions=[permission("tcp", 22, 22, **V4_WORLD)])
    offending = {
        _find(ec2, target, "tcp", 22, 22, "0.0.0.0/0"),
        _find(ec2, target, "tcp", 8000, 8080, "::/0"),
        _find(ec2, target, "tcp", 0, 65535, "0.0.0.0/0"),
        _find(ec2, target, "udp", 53, 53, "0.0.0.0/0"),
        _find(ec2, target, "-1", -1, -1, "::/0"),
    }
    return {"target": target, "bystander": bystander, "offending": offending, "other": other, "pl": prefix_list}


def test_script_revokes_unauthorized_rules_only(ec2, groups):
    target = groups["target"]
    before = security_group_rules(ec2, target)
    event = {"SecurityGroupId": target, "AuthorizedTcpPorts": ["80", "443"], "AuthorizedUdpPorts": []}

    out = revoke_unauthorized_inbound_rules(event, None)

    after = security_group_rules(ec2, target)
    assert set(after) == set(before) - groups["offending"]
    assert all(after[rid] == before[rid] for rid in after)
    assert out["RevokedCount"] == "5"


def test_script_honours_authorized_ports_and_ranges(ec2, groups):
    target = groups["target"]
    event = {
        "SecurityGroupId": target,
        "AuthorizedTcpPorts": ["22", "80", "443", "8000-8080"],
        "AuthorizedUdpPorts": ["53"],
    }
    revoke_unauthorized_inbound_rules(event, None)
    left = security_group_rules(ec2, target)
    assert _find(ec2, target, "tcp", 22, 22, "0.0.0.0/0") in left
    assert _find(ec2, target, "tcp", 8000, 8080, "::/0") in left
    assert _find(ec2, target, "udp", 53, 53, "0.0.0.0/0") in left
    assert not any(r["IpProtocol"] == "-1" and not r["IsEgress"] for r in left.values()), "all-traffic rule revoked"
    assert not any(r["FromPort"] == 0 and r["ToPort"] == 65535 for r in left.values()), "0-65535 revoked"


@pytest.mark.parametrize("bad", ["70000", "22-21", "http"])
def test_script_bad_port_entry_names_the_parameter_and_changes_nothing(ec2, groups, bad):
    before = security_group_rules(ec2, groups["target"])
    with pytest.raises(RemediationError, match=f"AuthorizedTcpPorts entry '{bad}'"):
        revoke_unauthorized_inbound_rules(
            {"SecurityGroupId": groups["target"], "AuthorizedTcpPorts": [bad], "AuthorizedUdpPorts": []}, None
        )
    assert security_group_rules(ec2, groups["target"]) == before


def test_script_missing_group_names_the_input(ec2):
    with pytest.raises(RemediationError, match=f"SecurityGroupId {MISSING_GROUP}: no such security group"):
        revoke_unauthorized_inbound_rules({"SecurityGroupId": MISSING_GROUP}, None)


# --- the document, through the local runner ---------------------------------------


def test_document_with_default_ports_revokes_offending_rules_and_nothing_else(ec2, groups, run_runbook):
    target = groups["target"]
    before = security_group_rules(ec2, target)
    bystander_before = security_group_rules(ec2, groups["bystander"])

    execution = run_runbook(NAME, SecurityGroupId=target)

    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    after = security_group_rules(ec2, target)
    assert set(after) == set(before) - groups["offending"]
    assert all(after[rid] == before[rid] for rid in after), "kept rules (incl. egress) unchanged"
    assert any(r["IsEgress"] for r in after.values())
    assert security_group_rules(ec2, groups["bystander"]) == bystander_before
    assert "Revoked 5 inbound rule(s)" in str(execution["Outputs"][OUTPUT])


def test_document_passes_the_authorized_port_lists(ec2, groups, run_runbook):
    target = groups["target"]
    execution = run_runbook(
        NAME, SecurityGroupId=target, AuthorizedTcpPorts=["22", "80", "443", "8000-8080"], AuthorizedUdpPorts=["53"]
    )
    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    left = security_group_rules(ec2, target)
    assert _find(ec2, target, "tcp", 22, 22, "0.0.0.0/0") in left
    assert _find(ec2, target, "udp", 53, 53, "0.0.0.0/0") in left
    assert "Revoked 2 inbound rule(s)" in str(execution["Outputs"][OUTPUT])


def test_document_second_run_succeeds_and_changes_nothing(ec2, groups, run_runbook):
    run_runbook(NAME, SecurityGroupId=groups["target"])
    kept = security_group_rules(ec2, groups["target"])
    execution = run_runbook(NAME, SecurityGroupId=groups["target"])
    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert "nothing changed" in str(execution["Outputs"][OUTPUT])
    assert security_group_rules(ec2, groups["target"]) == kept


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("SecurityGroupId", "sg-NOPE"),
        ("SecurityGroupId", "subnet-0123456789abcdef0"),
        ("AuthorizedTcpPorts", ["443", "65536"]),
        ("AuthorizedUdpPorts", ["53;22"]),
    ],
)
def test_document_rejects_malformed_input_naming_it(ec2, groups, run_runbook, param, value):
    before = security_group_rules(ec2, groups["target"])
    params = {"SecurityGroupId": groups["target"], param: value}
    with pytest.raises(ParameterValidationError, match=param):
        run_runbook(NAME, **params)
    assert security_group_rules(ec2, groups["target"]) == before


def test_document_fails_on_a_missing_group_naming_it(ec2, groups, run_runbook):
    before = security_group_rules(ec2, groups["target"])
    execution = run_runbook(NAME, SecurityGroupId=MISSING_GROUP)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"SecurityGroupId {MISSING_GROUP}: no such security group" in execution["FailureMessage"]
    assert security_group_rules(ec2, groups["target"]) == before
