"""Elastic Load Balancing controls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asr.controls.base import (
    Context,
    EvaluationError,
    Resource,
    Verdict,
    api_call,
    control,
    failed,
    not_applicable,
    passed,
)

_TERMINAL_ACTIONS = ("forward", "redirect", "fixed-response")


def _rule_problem(rule: Mapping[str, Any]) -> str | None:
    """Why a listener rule does not redirect to HTTPS (None when it does)."""
    actions = sorted(rule.get("Actions", []), key=lambda a: a.get("Order", 0))
    terminal = [a for a in actions if a.get("Type") in _TERMINAL_ACTIONS]
    if not terminal:
        return "has no forward, redirect or fixed-response action"
    action = terminal[-1]
    if action["Type"] != "redirect":
        return f"action is {action['Type']!r}"
    protocol = (action.get("RedirectConfig") or {}).get("Protocol", "#{protocol}")
    if protocol != "HTTPS":
        return f"redirects with Protocol {protocol!r}"
    return None


def _all_rules(elbv2: Any, listener_arn: str) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"ListenerArn": listener_arn}
    while True:
        page = elbv2.describe_rules(**kwargs)
        rules.extend(page.get("Rules", []))
        marker = page.get("NextMarker")
        if not marker:
            return rules
        kwargs["Marker"] = marker


@control(
    "ELB.1",
    doc="https://docs.aws.amazon.com/securityhub/latest/userguide/elb-controls.html#elb-1",
    resource_types=("AwsElbv2LoadBalancer",),
)
def alb_redirects_http_to_https(ctx: Context, resource: Resource) -> Verdict:
    """ELB.1 (Config rule alb-http-to-https-redirection-check): every HTTP listener of an
    Application Load Balancer must redirect HTTP requests to HTTPS. The rule looks at all the
    listener's rules, not only the default action: a rule that forwards (or answers) over HTTP,
    or redirects to anything but HTTPS, fails. Load balancers of another type are out of scope."""
    elbv2 = ctx.client("elbv2")
    balancers = api_call("ELB.1", resource, elbv2.describe_load_balancers, LoadBalancerArns=[resource.id])[
        "LoadBalancers"
    ]
    if not balancers:
        raise EvaluationError(f"ELB.1: load balancer {resource.id!r} not found")
    kind = balancers[0].get("Type")
    if kind != "application":
        return not_applicable(f"load balancer Type is {kind!r}, not 'application'")
    listeners: list[dict[str, Any]] = []

    def describe_listeners() -> None:
        for page in elbv2.get_paginator("describe_listeners").paginate(LoadBalancerArn=resource.id):
            listeners.extend(page.get("Listeners", []))

    api_call("ELB.1", resource, describe_listeners)
    http = sorted((x for x in listeners if x.get("Protocol") == "HTTP"), key=lambda x: x.get("Port", 0))
    if not http:
        return passed("the load balancer has no HTTP listener")
    for listener in http:
        rules = api_call("ELB.1", resource, _all_rules, elbv2=elbv2, listener_arn=listener["ListenerArn"])
        if not rules:  # no rules listed: judge the listener's default actions
            rules = [{"Priority": "default", "Actions": listener.get("DefaultActions", [])}]
        for rule in rules:
            problem = _rule_problem(rule)
            if problem:
                which = "default rule" if rule.get("IsDefault") or rule.get("Priority") == "default" else "rule"
                priority = "" if which == "default rule" else f" (priority {rule.get('Priority')})"
                return failed(f"HTTP listener on port {listener.get('Port')}: {which}{priority} {problem}")
    ports = ", ".join(str(x.get("Port")) for x in http)
    return passed(f"every rule of the HTTP listener(s) on port {ports} redirects to HTTPS")
