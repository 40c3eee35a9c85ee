"""IAM policy evaluation as the IAM User Guide states it."""

from __future__ import annotations

import pytest

from asr.iam.policy import ModelError, Policy, PolicyError, Request, decide

ROLE = "arn:aws:iam::111111111111:role/R"


def _policy(*statements: dict) -> list[Policy]:
    return [Policy.parse("p", {"Version": "2012-10-17", "Statement": list(statements)})]


def _req(action: str, resource: str, context: dict | None = None, modeled: set[str] | None = None) -> Request:
    return Request(ROLE, action, resource, context or {}, frozenset(modeled or ()))


def test_allow_needs_matching_action_and_resource_with_wildcards():
    policies = _policy({"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b-*"})
    assert decide(policies, _req("s3:GetBucketPolicy", "arn:aws:s3:::b-1")).allowed
    assert decide(policies, _req("S3:getbucketpolicy", "arn:aws:s3:::b-1")).allowed  # actions ignore case
    assert not decide(policies, _req("s3:PutBucketPolicy", "arn:aws:s3:::b-1")).allowed
    assert not decide(policies, _req("s3:GetBucketPolicy", "arn:aws:s3:::B-1")).allowed  # resources do not


def test_explicit_deny_wins_and_is_reported():
    policies = _policy(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:*", "Resource": "*", "Sid": "NoIam"},
    )
    decision = decide(policies, _req("iam:PassRole", "arn:aws:iam::111111111111:role/X"))
    assert not decision.allowed and decision.deny is not None and decision.deny.sid == "NoIam"


def test_not_action_and_not_resource():
    policies = _policy({"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret"})
    assert decide(policies, _req("s3:GetObject", "arn:aws:s3:::public")).allowed
    assert not decide(policies, _req("iam:GetRole", "arn:aws:s3:::public")).allowed
    assert not decide(policies, _req("s3:GetObject", "arn:aws:s3:::secret")).allowed


@pytest.mark.parametrize(
    ("operator", "expected", "value", "allowed"),
    [
        ("StringEquals", "ec2.amazonaws.com", "ec2.amazonaws.com", True),
        ("StringEquals", "ec2.amazonaws.com", "ssm.amazonaws.com", False),
        ("StringLike", "*.amazonaws.com", "ssm.amazonaws.com", True),
        ("StringNotEquals", "ec2.amazonaws.com", "ssm.amazonaws.com", True),
        ("StringEqualsIgnoreCase", "EC2.amazonaws.com", "ec2.amazonaws.com", True),
        ("ArnLike", "arn:*:iam::*:policy/P-*", "arn:aws:iam::111111111111:policy/P-1", True),
        ("ArnLike", "arn:*:iam::*:policy/P-*", "arn:aws:iam::111111111111:policy/Q-1", False),
        ("ArnEquals", "arn:aws:iam::111111111111:policy/P", "arn:aws:iam::111111111111:policy/P", True),
        ("Bool", "true", True, True),
        ("Bool", "false", True, False),
        ("NumericLessThan", "5", "3", True),
    ],
)
def test_condition_operators(operator, expected, value, allowed):
    policies = _policy({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {operator: {"k:k": expected}}})
    assert decide(policies, _req("s3:X", "*", {"k:k": value})).allowed is allowed


def test_absent_key_positive_false_negated_true_ifexists_true():
    def allowed(op: str) -> bool:
        policies = _policy({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {op: {"k:k": "v"}}})
        return decide(policies, _req("s3:X", "*", {}, {"k:k"})).allowed

    assert allowed("StringEquals") is False
    assert allowed("StringNotEquals") is True
    assert allowed("StringEqualsIfExists") is True


def test_null_operator():
    def allowed(flag: str, context: dict) -> bool:
        policies = _policy({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Null": {"k:k": flag}}})
        return decide(policies, _req("s3:X", "*", context, {"k:k"})).allowed

    assert allowed("true", {}) and not allowed("true", {"k:k": "v"})
    assert allowed("false", {"k:k": "v"}) and not allowed("false", {})


def test_for_all_and_any_values():
    def allowed(op: str, values: list[str]) -> bool:
        policies = _policy({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {op: {"k:k": ["a", "b"]}}})
        return decide(policies, _req("s3:X", "*", {"k:k": values}, {"k:k"})).allowed

    assert allowed("ForAllValues:StringEquals", ["a", "b"]) and not allowed("ForAllValues:StringEquals", ["a", "c"])
    assert allowed("ForAnyValue:StringEquals", ["c", "b"]) and not allowed("ForAnyValue:StringEquals", ["c"])


def test_a_condition_on_a_key_nobody_modeled_is_loud():
    policies = _policy(
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/x": "y"}}}
    )
    with pytest.raises(ModelError, match="aws:ResourceTag/x"):
        decide(policies, _req("s3:X", "*"))


def test_unknown_operator_is_refused():
    with pytest.raises(PolicyError, match="StringSortOf"):
        _policy({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringSortOf": {"a": "b"}}})


def test_trust_policy_principals():
    trust = _policy(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}},
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ssm.amazonaws.com"}},
    )
    other = Request("arn:aws:iam::222222222222:role/Any", "sts:AssumeRole", ROLE)
    stranger = Request("arn:aws:iam::333333333333:role/Any", "sts:AssumeRole", ROLE)
    ssm = Request("service:ssm.amazonaws.com", "sts:AssumeRole", ROLE)
    ec2 = Request("service:ec2.amazonaws.com", "sts:AssumeRole", ROLE)
    assert decide(trust, other, "222222222222").allowed
    assert not decide(trust, stranger, "333333333333").allowed
    assert decide(trust, ssm).allowed and not decide(trust, ec2).allowed
