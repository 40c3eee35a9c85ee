"""ASR-EnforceHTTPSForALB: the script against moto, then the document through the runner."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enforce_https_for_alb import RemediationError, enforce_https
from tests.remediations.helpers import step_output

DOC = "EnforceHTTPSForALB"


def _alb(name: str, https: bool = True) -> str:
    ec2, elbv2 = boto3.client("ec2"), boto3.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in ((1, "a"), (2, "b"))
    ]
    lb = elbv2.create_load_balancer(Name=name, Subnets=subnets, Type="application")["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    tg = elbv2.create_target_group(Name=f"{name}-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0][
        "TargetGroupArn"
    ]
    forward = [{"Type": "forward", "TargetGroupArn": tg}]
    http = elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=forward)
    elbv2.create_rule(
        ListenerArn=http["Listeners"][0]["ListenerArn"],
        Priority=10,
        Actions=forward,
        Conditions=[{"Field": "path-pattern", "Values": ["/health"]}],
    )
    elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=8080, DefaultActions=forward)
    if https:
        cert = boto3.client("acm").request_certificate(DomainName="example.com")["CertificateArn"]
        elbv2.create_listener(
            LoadBalancerArn=lb,
            Protocol="HTTPS",
            Port=443,
            DefaultActions=forward,
            Certificates=[{"CertificateArn": cert}],
        )
    return lb


def _state(lb: str) -> dict:
    elbv2 = boto3.client("elbv2")
    listeners = elbv2.describe_listeners(LoadBalancerArn=lb)["Listeners"]
    return {
        (lst["Protocol"], lst["Port"]): {
            "default": lst["DefaultActions"],
            "rules": [r for r in elbv2.describe_rules(ListenerArn=lst["ListenerArn"])["Rules"] if not r["IsDefault"]],
        }
        for lst in listeners
    }


def _redirect(action_list: list) -> bool:
    return action_list[0]["Type"] == "redirect" and action_list[0]["RedirectConfig"]["Protocol"] == "HTTPS"


def _rules_now_redirect(before: list, after: list) -> None:
    """ELB.1 judges every rule of an HTTP listener: each kept its priority and conditions, and redirects to HTTPS."""
    assert [(r["RuleArn"], r["Priority"], r["Conditions"]) for r in after] == [
        (r["RuleArn"], r["Priority"], r["Conditions"]) for r in before
    ]
    assert all(_redirect(r["Actions"]) for r in after)


def test_script_redirects_http_listeners_and_keeps_rules_and_https():
    with mock_aws():
        lb = _alb("web")
        before = _state(lb)
        out = enforce_https({"ResourceARN": lb}, None)
        after = _state(lb)
    assert len(out["ChangedListeners"]) == 2 and out["RedirectPort"] == "443"
    assert _redirect(after[("HTTP", 80)]["default"]) and _redirect(after[("HTTP", 8080)]["default"])
    _rules_now_redirect(before[("HTTP", 80)]["rules"], after[("HTTP", 80)]["rules"])
    assert out["ChangedRules"] == [r["RuleArn"] for r in before[("HTTP", 80)]["rules"]]
    assert after[("HTTPS", 443)] == before[("HTTPS", 443)]


def test_script_refuses_an_alb_without_https_listener():
    with mock_aws():
        lb = _alb("plain", https=False)
        before = _state(lb)
        with pytest.raises(RemediationError, match="has no HTTPS listener"):
            enforce_https({"ResourceARN": lb}, None)
        assert _state(lb) == before


# --- the document, through the runner ------------------------------------------------


def test_document_remediates_then_changes_nothing(run_runbook):
    lb, bystander = _alb("web"), _alb("other")
    before, other = _state(lb), _state(bystander)

    first = run_runbook(DOC, ResourceARN=lb)
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    after = _state(lb)
    assert _redirect(after[("HTTP", 80)]["default"]) and _redirect(after[("HTTP", 8080)]["default"])
    _rules_now_redirect(before[("HTTP", 80)]["rules"], after[("HTTP", 80)]["rules"])
    assert after[("HTTPS", 443)] == before[("HTTPS", 443)]
    assert _state(bystander) == other
    assert len(step_output(first, "EnforceHTTPS.Output")["ChangedListeners"]) == 2

    second = run_runbook(DOC, ResourceARN=lb)
    assert second["AutomationExecutionStatus"] == "Success"
    assert step_output(second, "EnforceHTTPS.Output")["ChangedListeners"] == []
    assert step_output(second, "EnforceHTTPS.Output")["ChangedRules"] == []
    assert _state(lb) == after


@pytest.mark.parametrize(
    "bad",
    [
        "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/web/0123456789abcdef",
        "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/web/0123456789abcdef",
        "web",
    ],
)
def test_document_rejects_a_malformed_arn(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="ResourceARN"):
        run_runbook(DOC, ResourceARN=bad)


def test_document_fails_on_missing_or_unsafe_load_balancers(run_runbook):
    plain = _alb("plain", https=False)
    before = _state(plain)
    missing = "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/gone/0123456789abcdef"
    out = run_runbook(DOC, ResourceARN=missing)
    assert out["AutomationExecutionStatus"] == "Failed"
    assert f"ResourceARN {missing}: no such load balancer" in out["FailureMessage"]
    out = run_runbook(DOC, ResourceARN=plain)
    assert out["AutomationExecutionStatus"] == "Failed" and "has no HTTPS listener" in out["FailureMessage"]
    assert _state(plain) == before


# --- listener rules (ELB.1 defect: only the default action was rewritten) ------------------


def test_document_rewrites_http_rules_even_when_the_default_already_redirects(run_runbook):
    """alb-http-to-https-redirection-check judges every rule of an HTTP listener: a path rule that forwards
    over HTTP, or a host rule that redirects to HTTP, keeps the load balancer noncompliant."""
    elbv2 = boto3.client("elbv2")
    lb = _alb("web")
    http = next(x for x in elbv2.describe_listeners(LoadBalancerArn=lb)["Listeners"] if x["Port"] == 80)
    https_redirect = [
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}
    ]
    for listener in elbv2.describe_listeners(LoadBalancerArn=lb)["Listeners"]:
        if listener["Protocol"] == "HTTP":
            elbv2.modify_listener(ListenerArn=listener["ListenerArn"], DefaultActions=https_redirect)
    elbv2.create_rule(
        ListenerArn=http["ListenerArn"],
        Priority=20,
        Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["old.example.com"]}}],
        Actions=[{"Type": "redirect", "RedirectConfig": {"Host": "new.example.com", "Protocol": "HTTP",
                                                         "Port": "#{port}", "StatusCode": "HTTP_302"}}],
    )  # fmt: skip
    before = _state(lb)

    out = run_runbook(DOC, ResourceARN=lb)

    assert out["AutomationExecutionStatus"] == "Success", out.get("FailureMessage")
    after = _state(lb)
    _rules_now_redirect(before[("HTTP", 80)]["rules"], after[("HTTP", 80)]["rules"])
    host_rule = next(r for r in after[("HTTP", 80)]["rules"] if r["Priority"] == "20")
    config = host_rule["Actions"][0]["RedirectConfig"]
    assert (config["Host"], config["Protocol"], config["Port"], config["StatusCode"]) == (
        "new.example.com", "HTTPS", "443", "HTTP_302"
    )  # fmt: skip
    assert after[("HTTP", 80)]["default"] == before[("HTTP", 80)]["default"]
    assert after[("HTTPS", 443)] == before[("HTTPS", 443)]
    result = step_output(out, "EnforceHTTPS.Output")
    assert result["ChangedListeners"] == [] and len(result["ChangedRules"]) == 2
