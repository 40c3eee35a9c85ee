"""The Action Log as the built templates deploy it: the admin's writer role and organization lookup,
the member stack's Action Log parameters and names (tests/lambdas/test_action_log_path.py runs it)."""

from __future__ import annotations

import json
import zipfile

from asr import solution
from asr.build import REGIONAL_ASSETS
from tests.infrastructure.conftest import by_stack, resources_of

ADMIN = solution.ADMIN_STACK
GROUP_ARN = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":logs:",
            {"Ref": "AWS::Region"},
            ":",
            {"Ref": "AWS::AccountId"},
            ":log-group:",
            {"Ref": "CloudTrailEventsLogGroup94AE6D1A"},
        ],
    ]
}


def _writer(templates) -> dict:
    return by_stack(templates, ADMIN)["Resources"]["ActionLogCrossAccountLogWriterRole252CB494"]


def _lookup_id(templates) -> str:
    [logical_id] = resources_of(by_stack(templates, ADMIN), "Custom::OrgIdLookup")
    return logical_id


def test_the_writer_role_keeps_the_reference_name_and_logical_id(templates):
    role = _writer(templates)
    assert role["Type"] == "AWS::IAM::Role" and role["Properties"]["RoleName"] == "CrossAccountLogWriterRole"
    assert "Condition" not in role  # created unconditionally, as the reference


def test_the_writer_role_trusts_the_organization_and_the_admin_account_only(templates):
    trust = _writer(templates)["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [
        {
            "Sid": "MembersOfTheOrganization",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": {"Ref": _lookup_id(templates)}}},
        },
        {
            "Sid": "AdminAccount",
            "Effect": "Allow",
            "Principal": {
                "AWS": {
                    "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]]
                }
            },
            "Action": "sts:AssumeRole",
        },
    ]


def test_the_writer_role_may_only_write_to_the_action_log_group(templates):
    props = _writer(templates)["Properties"]
    assert "ManagedPolicyArns" not in props
    [policy] = props["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Sid": "WriteActionLogStreams",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {"Fn::Join": ["", [*GROUP_ARN["Fn::Join"][1], ":log-stream:*"]]},
        },
        {
            "Sid": "ListActionLogStreams",
            "Effect": "Allow",
            "Action": ["logs:DescribeLogStreams"],
            "Resource": GROUP_ARN,
        },
    ]
    # no other policy is attached to it
    for res in resources_of(by_stack(templates, ADMIN), "AWS::IAM::Policy").values():
        assert {"Ref": "ActionLogCrossAccountLogWriterRole252CB494"} not in res["Properties"].get("Roles", [])


def test_the_log_group_is_the_references(templates):
    group = by_stack(templates, ADMIN)["Resources"]["CloudTrailEventsLogGroup94AE6D1A"]
    assert group["Properties"]["LogGroupName"] == solution.ACTION_LOG_GROUP
    assert group["Properties"]["RetentionInDays"] == 3653 and group["DeletionPolicy"] == "Retain"


def test_the_lookup_runs_its_own_function_with_describe_organization_only(templates, built):
    template = by_stack(templates, ADMIN)
    lookup = template["Resources"][_lookup_id(templates)]
    function_id = lookup["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    function = template["Resources"][function_id]["Properties"]
    assert function["FunctionName"] == "SO0111-ASR-OrgIdLookup"
    assert function["Handler"] == "lambdas.org_lookup.handler.lambda_handler"
    assert "org_lookup.zip" in json.dumps(function["Code"])
    role = template["Resources"][function["Role"]["Fn::GetAtt"][0]]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ]
    [policy] = role["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    assert statements[1:] == [{"Effect": "Allow", "Action": "organizations:DescribeOrganization", "Resource": "*"}]
    assert statements[0]["Action"] == ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    assert "log-group:/aws/lambda/SO0111-ASR-OrgIdLookup:*" in json.dumps(statements[0]["Resource"])
    # the build packages the handler
    with zipfile.ZipFile(built.out / REGIONAL_ASSETS / solution.LAMBDA_ASSET_FOLDER / "org_lookup.zip") as zf:
        assert "lambdas/org_lookup/handler.py" in zf.namelist() and "asr/solution.py" in zf.namelist()


def test_an_output_says_whether_other_accounts_can_deliver(templates):
    output = by_stack(templates, ADMIN)["Outputs"]["ActionLogCrossAccountStatus"]
    assert output["Value"] == {"Fn::GetAtt": [_lookup_id(templates), "Status"]}
    assert "Condition" not in output


def test_the_member_passes_the_writer_role_and_places_the_action_log_by_region(templates):
    member = by_stack(templates, solution.MEMBER_STACK)
    param = member["Parameters"]["ActionLogRegion"]
    assert param["Default"] == ""  # today's behaviour: wherever EnableCloudTrailForASRActionLog=yes
    assert member["Conditions"]["CloudTrailCondition"] == {
        "Fn::And": [
            {"Fn::Equals": [{"Ref": "EnableCloudTrailForASRActionLog"}, "yes"]},
            {
                "Fn::Or": [
                    {"Fn::Equals": [{"Ref": "ActionLogRegion"}, ""]},
                    {"Fn::Equals": [{"Ref": "ActionLogRegion"}, {"Ref": "AWS::Region"}]},
                ]
            },
        ]
    }
    [nested] = [
        r
        for r in resources_of(member, "AWS::CloudFormation::Stack").values()
        if "member-cloudtrail" in json.dumps(r["Properties"]["TemplateURL"])
    ]
    writer = nested["Properties"]["Parameters"]["LogWriterRoleArn"]
    assert writer == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":iam::",
                {"Ref": "SecHubAdminAccount"},
                ":role/CrossAccountLogWriterRole",
            ],
        ]
    }


def test_no_member_action_log_name_collides_across_regions_of_an_account(templates):
    """IAM names and S3 bucket names are global: only names AWS scopes to a Region may be fixed."""
    template = by_stack(templates, solution.MEMBER_CLOUDTRAIL_STACK)
    regional = {"AWS::Lambda::Function", "AWS::CloudTrail::Trail", "AWS::Logs::LogGroup"}
    references = {"AWS::Lambda::Permission"}  # its FunctionName names the function, it is no name of its own
    for logical_id, res in template["Resources"].items():
        props = res.get("Properties") or {}
        if res["Type"] in ("AWS::IAM::Role", "AWS::IAM::ManagedPolicy", "AWS::IAM::User"):
            assert not {"RoleName", "ManagedPolicyName", "UserName"} & set(props), logical_id
        if res["Type"] == "AWS::S3::Bucket":
            assert {"Ref": "AWS::Region"} in props["BucketName"]["Fn::Join"][1], logical_id
        named = {k for k in props if k.endswith("Name") and k not in ("PolicyName", "S3BucketName")}
        if named and res["Type"] not in ("AWS::S3::Bucket", *regional, *references):
            raise AssertionError(f"{logical_id} ({res['Type']}) has a fixed name: {named}")
