"""The strict matcher follows EventBridge's documented pattern semantics."""

from __future__ import annotations

import pytest

from tests.playbooks.event_pattern import matches, resolve

EVENT = {
    "source": "aws.securityhub",
    "detail": {"findings": [{"AwsAccountId": "111111111111", "Workflow": {"Status": "NEW"}, "Tags": ["a", "b"]}]},
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"source": ["aws.securityhub"]}, True),
        ({"source": ["aws.ec2", "aws.securityhub"]}, True),  # OR within a list
        ({"source": ["AWS.SECURITYHUB"]}, False),  # exact, case-sensitive
        ({"source": ["aws.securityhub"], "detail": {"findings": {"Workflow": {"Status": ["RESOLVED"]}}}}, False),
        ({"detail": {"findings": {"Workflow": {"Status": ["NEW"]}}}}, True),  # array of objects: any element
        ({"detail": {"findings": {"Tags": ["b"]}}}, True),  # array of values: any element
        ({"detail": {"findings": {"AwsAccountId": [{"anything-but": ["111111111111"]}]}}}, False),
        ({"detail": {"findings": {"AwsAccountId": [{"anything-but": ["222222222222"]}]}}}, True),
        ({"detail": {"findings": {"AwsAccountId": [{"exists": False}]}}}, False),
        ({"detail": {"findings": {"Missing": [{"exists": False}]}}}, True),
        ({"detail": {"findings": {"Missing": [{"anything-but": ["x"]}]}}}, False),  # anything-but needs the key
        ({"detail": {"findings": {"AwsAccountId": [{"prefix": "1111"}]}}}, True),
        ({"detail": {"findings": {"AwsAccountId": [111111111111]}}}, False),  # number is not string
    ],
)
def test_semantics(pattern, expected):
    assert matches(pattern, EVENT) is expected


def test_unknown_constructs_fail_loudly():
    with pytest.raises(ValueError, match="unsupported content filter"):
        matches({"source": [{"suffix": "hub"}]}, EVENT)
    with pytest.raises(ValueError, match="must be a list or a mapping"):
        matches({"source": "aws.securityhub"}, EVENT)


def test_resolver_evaluates_conditions_and_functions():
    conditions = {"All": {"Fn::Equals": [{"Ref": "Ids"}, "ALL"]}}
    node = {"a": {"Fn::If": ["All", {"Ref": "AWS::NoValue"}, {"Fn::Split": [",", {"Ref": "Ids"}]}]}, "b": 1}
    assert resolve(node, {"Ids": "ALL"}, conditions) == {"b": 1}
    assert resolve(node, {"Ids": "1,2"}, conditions) == {"a": ["1", "2"], "b": 1}
    assert resolve({"Fn::Sub": "arn:${AWS::Partition}:x"}, {}, {}, "aws-cn") == "arn:aws-cn:x"
