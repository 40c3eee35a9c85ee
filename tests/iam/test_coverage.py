"""Grant coverage: a grant is exercised, or has a written reason, or it is reported."""

from __future__ import annotations

from asr.iam import coverage
from asr.iam.policy import Policy
from asr.iam.template import Role


def _role(source: str, *actions: str) -> Role:
    policy = Policy.parse("p", {"Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]})
    return Role("arn:aws:iam::111111111111:role/r", "r", "111111111111", (policy,), Policy("t", ()), source)


def test_exercised_by_pattern_reasoned_or_reported():
    roles = [_role("t:R", "s3:Get*", "s3:PutBucketPolicy", "ec2:DescribeVpcs")]
    report = coverage.report(roles, {("t:R", "s3:GetBucketPolicy"), ("t:Other", "s3:PutBucketPolicy")})
    assert report.granted == 3 and report.exercised == 1
    # Another role's use does not count; nothing in unexercised.yaml matches role "t:R".
    assert report.unexercised == (("t:R", "ec2:DescribeVpcs"), ("t:R", "s3:PutBucketPolicy"))


def test_reasons_file_is_well_formed_and_every_reason_says_why():
    for reason in coverage.reasons():
        assert reason.role and reason.action and len(reason.reason) > 30
