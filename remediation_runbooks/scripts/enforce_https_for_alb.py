"""ASR-EnforceHTTPSForALB: make every rule of every HTTP listener of one ALB redirect to HTTPS.

Security Hub ELB.1 (Config rule alb-http-to-https-redirection-check) judges every rule of an HTTP
listener, not only its default action: "The rule is NON_COMPLIANT if one or more HTTP listeners of
Application Load Balancer do not have HTTP to HTTPS redirection configured. The rule is also
NON_COMPLIANT if one of more HTTP listeners have forwarding to an HTTP listener instead of
redirection" (https://docs.aws.amazon.com/config/latest/developerguide/alb-http-to-https-redirection-check.html).
So the default action and each rule of an HTTP listener that forwards, answers, or redirects to
anything but HTTPS is rewritten into a redirect to HTTPS; a rule keeps its priority and conditions.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
TERMINAL_ACTIONS = ("forward", "redirect", "fixed-response")


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _load_balancer(elbv2: Any, arn: str) -> dict[str, Any]:
    try:
        return elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]
    except elbv2.exceptions.LoadBalancerNotFoundException:
        raise RemediationError(f"ResourceARN {arn}: no such load balancer in this account and Region") from None


def _listeners(elbv2: Any, arn: str) -> list[dict[str, Any]]:
    paginator = elbv2.get_paginator("describe_listeners")
    return [listener for page in paginator.paginate(LoadBalancerArn=arn) for listener in page["Listeners"]]


def actions_redirect_to_https(actions: list[dict[str, Any]] | None) -> bool:
    """Whether the action that ends a request (the last forward/redirect/fixed-response) redirects to HTTPS."""
    ordered = sorted(actions or (), key=lambda a: a.get("Order", 0))
    terminal = [a for a in ordered if a.get("Type") in TERMINAL_ACTIONS]
    return bool(terminal) and terminal[-1]["Type"] == "redirect" and (
        terminal[-1].get("RedirectConfig") or {}
    ).get("Protocol") == "HTTPS"


def redirects_to_https(listener: dict[str, Any]) -> bool:
    return actions_redirect_to_https(listener.get("DefaultActions"))


def _rules(elbv2: Any, listener_arn: str) -> list[dict[str, Any]]:
    """The listener's rules other than the default one (that one is the listener's DefaultActions)."""
    rules: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"ListenerArn": listener_arn}
    while True:
        page = elbv2.describe_rules(**kwargs)
        rules.extend(r for r in page["Rules"] if not r.get("IsDefault"))
        if not page.get("NextMarker"):
            return rules
        kwargs["Marker"] = page["NextMarker"]


def _rules_to_fix(elbv2: Any, listeners: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        rule
        for listener in listeners
        if listener["Protocol"] == "HTTP"
        for rule in _rules(elbv2, listener["ListenerArn"])
        if not actions_redirect_to_https(rule.get("Actions"))
    ]


def _https_port(arn: str, listeners: list[dict[str, Any]]) -> int:
    ports = sorted(listener["Port"] for listener in listeners if listener["Protocol"] == "HTTPS")
    if not ports:
        raise RemediationError(
            f"ResourceARN {arn}: the load balancer has no HTTPS listener, so redirecting HTTP would break "
            "every request; add an HTTPS listener first. Nothing changed."
        )
    return 443 if 443 in ports else ports[0]


def _redirect(port: int) -> list[dict[str, Any]]:
    return [
        {
            "Type": "redirect",
            "RedirectConfig": {
                "Protocol": "HTTPS",
                "Port": str(port),
                "Host": "#{host}",
                "Path": "/#{path}",
                "Query": "#{query}",
                "StatusCode": "HTTP_301",
            },
        }
    ]


def _rule_redirect(rule: dict[str, Any], port: int) -> list[dict[str, Any]]:
    """The rule's new actions: its own redirect made HTTPS (host, path, query and status kept), else the
    standard redirect to HTTPS on ``port``."""
    ordered = sorted(rule.get("Actions") or (), key=lambda a: a.get("Order", 0))
    terminal = [a for a in ordered if a.get("Type") in TERMINAL_ACTIONS]
    if not terminal or terminal[-1]["Type"] != "redirect":
        return _redirect(port)
    config = dict(terminal[-1].get("RedirectConfig") or {})
    same_host = config.get("Host", "#{host}") == "#{host}"
    if config.get("Port", "#{port}") in ("#{port}", "80"):
        config["Port"] = str(port) if same_host else "443"
    config["Protocol"] = "HTTPS"
    return [{"Type": "redirect", "RedirectConfig": config}]


def enforce_https(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    arn = event["ResourceARN"]
    elbv2 = boto3.client("elbv2", config=BOTO_CONFIG)
    if _load_balancer(elbv2, arn).get("Type") != "application":
        raise RemediationError(f"ResourceARN {arn}: not an Application Load Balancer. Nothing changed.")
    listeners = _listeners(elbv2, arn)
    to_fix = [lst for lst in listeners if lst["Protocol"] == "HTTP" and not redirects_to_https(lst)]
    rules = _rules_to_fix(elbv2, listeners)
    port = _https_port(arn, listeners) if to_fix or rules else 443
    for listener in to_fix:
        elbv2.modify_listener(ListenerArn=listener["ListenerArn"], DefaultActions=_redirect(port))
    for rule in rules:
        elbv2.modify_rule(RuleArn=rule["RuleArn"], Actions=_rule_redirect(rule, port))
    after = _listeners(elbv2, arn)
    left = [lst["ListenerArn"] for lst in after if lst["Protocol"] == "HTTP" and not redirects_to_https(lst)]
    left += [rule["RuleArn"] for rule in _rules_to_fix(elbv2, after)]
    if left:
        raise RemediationError(f"ResourceARN {arn}: listeners or rules {left} still do not redirect to HTTPS")
    changed = bool(to_fix or rules)
    return {
        "LoadBalancerArn": arn,
        "ChangedListeners": [lst["ListenerArn"] for lst in to_fix],
        "ChangedRules": [rule["RuleArn"] for rule in rules],
        "RedirectPort": str(port) if changed else "",
        "Message": f"{len(to_fix)} HTTP listener default action(s) and {len(rules)} rule(s) now redirect to HTTPS."
        if changed
        else "Every rule of every HTTP listener already redirects to HTTPS (or there is none); nothing changed.",
    }
