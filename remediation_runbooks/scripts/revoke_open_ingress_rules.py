"""ASR-RevokeUnauthorizedInboundRules, ASR-DisableUnrestrictedAccessToHighRiskPorts and
ASR-DisablePublicAccessForSecurityGroup.

All three revoke inbound rules of one security group that are open to the whole Internet
(0.0.0.0/0 or ::/0); they differ only in which ports make such a rule offending.
Rules whose source is a security group, a prefix list or any other CIDR, outbound
rules, and every other security group are never touched.

Security group rules are read back after the revoke; the EC2 API is eventually consistent
("Eventual consistency in the Amazon EC2 API", EC2 API Reference), so a rule still listed is
read again a bounded number of times before the run fails.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})

ALL_PROTOCOLS = "-1"
VERIFY_ATTEMPTS, VERIFY_INTERVAL_SECONDS = 6, 5
# Ports of Security Hub control EC2.19 ("unrestricted access to ports with high risk").
# fmt: off
HIGH_RISK_PORTS = frozenset({
    20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000,
    3306, 3389, 4333, 5000, 5432, 5500, 5601, 8080, 8088, 8888, 9200, 9300,
})
# fmt: on
# Ports of Security Hub controls EC2.13 (SSH) and EC2.14 (RDP).
SSH_AND_RDP_PORTS = frozenset({22, 3389})
_PROTOCOL_NAMES = {"6": "tcp", "17": "udp"}

Rule = dict[str, Any]


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _protocol(rule: Rule) -> str:
    name = str(rule["IpProtocol"]).lower()
    return _PROTOCOL_NAMES.get(name, name)


def _source(rule: Rule) -> str:
    return rule.get("CidrIpv4") or rule.get("CidrIpv6") or ""


def _is_open_to_world(rule: Rule) -> bool:
    """A /0 source: every IPv4 or every IPv6 address (0.0.0.0/0, ::/0)."""
    try:
        return bool(_source(rule)) and ipaddress.ip_network(_source(rule), strict=False).prefixlen == 0
    except ValueError:
        return False


def _ports(rule: Rule) -> tuple[int, int]:
    return int(rule.get("FromPort", -1)), int(rule.get("ToPort", -1))


def _show(rule: Rule) -> str:
    low, high = _ports(rule)
    ports = "all ports" if _protocol(rule) == ALL_PROTOCOLS else (f"{low}" if low == high else f"{low}-{high}")
    protocol = "all traffic" if _protocol(rule) == ALL_PROTOCOLS else _protocol(rule)
    return f"{rule['SecurityGroupRuleId']} ({protocol} {ports} from {_source(rule)})"


def _check_group(ec2: Any, group_id: str, field: str) -> None:
    try:
        ec2.describe_security_groups(GroupIds=[group_id])
    except ClientError as err:
        if err.response["Error"]["Code"] in ("InvalidGroup.NotFound", "InvalidGroupId.Malformed"):
            raise RemediationError(f"{field} {group_id}: no such security group in this account and Region") from None
        raise


def _ingress_rules(ec2: Any, group_id: str) -> list[Rule]:
    rules: list[Rule] = []
    pages = ec2.get_paginator("describe_security_group_rules").paginate(
        Filters=[{"Name": "group-id", "Values": [group_id]}]
    )
    for page in pages:
        rules.extend(r for r in page["SecurityGroupRules"] if not r["IsEgress"] and r["GroupId"] == group_id)
    return rules


def _still_present(ec2: Any, group_id: str, ids: list[str], sleep: Callable[[float], None]) -> set[str]:
    """The revoked rule ids the API still lists, after at most VERIFY_ATTEMPTS reads."""
    left = set(ids)
    for attempt in range(VERIFY_ATTEMPTS):
        left = {r["SecurityGroupRuleId"] for r in _ingress_rules(ec2, group_id)} & set(ids)
        if not left:
            return left
        if attempt < VERIFY_ATTEMPTS - 1:
            sleep(VERIFY_INTERVAL_SECONDS)
    return left


def _revoke_offending(
    group_id: str,
    offends: Callable[[Rule], bool],
    what: str,
    *,
    field: str = "SecurityGroupId",
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, str]:
    """Revoke the world-open ingress rules of ``group_id`` for which ``offends`` is true."""
    ec2 = boto3.client("ec2", config=BOTO_CONFIG)
    _check_group(ec2, group_id, field)
    rules = _ingress_rules(ec2, group_id)
    offending = [r for r in rules if _is_open_to_world(r) and offends(r)]
    ids = [r["SecurityGroupRuleId"] for r in offending]
    if ids:
        ec2.revoke_security_group_ingress(GroupId=group_id, SecurityGroupRuleIds=ids)
        left = _still_present(ec2, group_id, ids, sleep)
        if left:
            raise RemediationError(
                f"{field} {group_id}: rules {', '.join(sorted(left))} are still present "
                f"{VERIFY_ATTEMPTS * VERIFY_INTERVAL_SECONDS} s after RevokeSecurityGroupIngress"
            )
    message = (
        f"Revoked {len(ids)} inbound rule(s) open to the Internet on {what}."
        if ids
        else f"No inbound rule is open to the Internet on {what}; nothing changed."
    )
    return {
        field: group_id,
        "RevokedRules": "; ".join(_show(r) for r in offending) or "none",
        "RevokedCount": str(len(ids)),
        "KeptInboundRules": str(len(rules) - len(ids)),
        "Message": message,
    }


def _parse_ports(values: Any, name: str) -> frozenset[int]:
    """``["80", "443", "8000-8080"]`` -> set of ports; a bad entry names the parameter."""
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    ports: set[int] = set()
    for value in values or ():
        text = str(value).strip()
        low_text, _, high_text = text.partition("-")
        try:
            low, high = int(low_text), int(high_text or low_text)
        except ValueError:
            raise RemediationError(f"{name} entry {text!r} is not a port or a range low-high") from None
        if not 0 <= low <= high <= 65535:
            raise RemediationError(f"{name} entry {text!r} is not a port range within 0-65535")
        ports.update(range(low, high + 1))
    return frozenset(ports)


def _reaches(rule: Rule, ports: frozenset[int]) -> bool:
    """All traffic, or a TCP/UDP rule whose port range holds one of ``ports``."""
    protocol = _protocol(rule)
    if protocol == ALL_PROTOCOLS:
        return True
    if protocol not in ("tcp", "udp"):
        return False
    low, high = _ports(rule)
    return any(low <= port <= high for port in ports)


def revoke_unauthorized_inbound_rules(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, str]:
    """EC2.18: revoke world-open TCP/UDP/all-traffic ingress rules that reach a port not authorized."""
    authorized = {
        "tcp": _parse_ports(event.get("AuthorizedTcpPorts"), "AuthorizedTcpPorts"),
        "udp": _parse_ports(event.get("AuthorizedUdpPorts"), "AuthorizedUdpPorts"),
    }

    def offends(rule: Rule) -> bool:
        protocol = _protocol(rule)
        if protocol == ALL_PROTOCOLS:
            return True
        if protocol not in authorized:
            return False
        low, high = _ports(rule)
        return any(port not in authorized[protocol] for port in range(low, high + 1))

    return _revoke_offending(event["SecurityGroupId"], offends, "ports not authorized", sleep=sleep)


def disable_unrestricted_access_to_high_risk_ports(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, str]:
    """EC2.19: revoke world-open TCP/UDP/all-traffic ingress rules whose port range covers a high-risk port."""
    return _revoke_offending(
        event["SecurityGroupId"], lambda rule: _reaches(rule, HIGH_RISK_PORTS), "high-risk ports", sleep=sleep
    )


def disable_public_access_for_security_group(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, str]:
    """EC2.13/EC2.14: revoke world-open ingress rules that reach SSH (22) or RDP (3389).

    As the controls judge it (Security Hub EC2.13 restricted-ssh, EC2.14 restricted-common-ports):
    a rule for the port, a port range that contains it, or all traffic (-1), from 0.0.0.0/0 or ::/0.
    UDP rules count too (RDP also runs over UDP 3389).
    """
    return _revoke_offending(
        event["GroupId"],
        lambda rule: _reaches(rule, SSH_AND_RDP_PORTS),
        "SSH (22) or RDP (3389)",
        field="GroupId",
        sleep=sleep,
    )
