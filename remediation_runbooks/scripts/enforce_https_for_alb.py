"""ASR-EnforceHTTPSForALB: make every HTTP listener of one ALB redirect to HTTPS by default."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


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


def redirects_to_https(listener: dict[str, Any]) -> bool:
    return any(
        action.get("Type") == "redirect" and (action.get("RedirectConfig") or {}).get("Protocol") == "HTTPS"
        for action in listener.get("DefaultActions") or ()
    )


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


def enforce_https(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    arn = event["ResourceARN"]
    elbv2 = boto3.client("elbv2", config=BOTO_CONFIG)
    if _load_balancer(elbv2, arn).get("Type") != "application":
        raise RemediationError(f"ResourceARN {arn}: not an Application Load Balancer. Nothing changed.")
    listeners = _listeners(elbv2, arn)
    to_fix = [lst for lst in listeners if lst["Protocol"] == "HTTP" and not redirects_to_https(lst)]
    port = _https_port(arn, listeners) if to_fix else 443
    for listener in to_fix:
        elbv2.modify_listener(ListenerArn=listener["ListenerArn"], DefaultActions=_redirect(port))
    left = [
        lst["ListenerArn"]
        for lst in _listeners(elbv2, arn)
        if lst["Protocol"] == "HTTP" and not redirects_to_https(lst)
    ]
    if left:
        raise RemediationError(f"ResourceARN {arn}: listeners {left} still do not redirect to HTTPS")
    return {
        "LoadBalancerArn": arn,
        "ChangedListeners": [lst["ListenerArn"] for lst in to_fix],
        "RedirectPort": str(port) if to_fix else "",
        "Message": f"{len(to_fix)} HTTP listener(s) now redirect to HTTPS."
        if to_fix
        else "Every HTTP listener already redirects to HTTPS (or there is none); nothing changed.",
    }
