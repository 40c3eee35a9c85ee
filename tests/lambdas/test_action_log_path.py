"""The Action Log end to end on moto, across accounts: a member account's trail files, the member's
event processor (``SO0111-ASR-EventProcessor``, as its role from the synthesized member CloudTrail
template, its environment resolved from that template), the admin's ``CrossAccountLogWriterRole``
(trust and policy from the synthesized admin template, the organization id as the
``Custom::OrgIdLookup`` answers it), the admin log group, and the dashboard's Logs Insights query.

The IAM enforcer (asr/iam) decides every call: the processor's s3:GetObject and sts:AssumeRole, the
writer role's trust (``aws:PrincipalOrgID`` from the emulated organization) and its logs calls.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterator

import boto3
import pytest

from asr import solution
from asr.admin.dashboard import ACTION_LOG_QUERY
from asr.iam.roles import synthesized_templates
from asr.iam.template import Location, Resolver
from asr.simulator.aws import new_session
from lambdas.action_log import handler
from lambdas.org_lookup.handler import UNAVAILABLE
from tests.conftest import ACCOUNT, ADMIN_ACCOUNT, REGION, multi_account_moto
from tests.lambdas.test_action_log import identity

ADMIN_TEMPLATE = "automated-security-response-admin.template"
MEMBER_TEMPLATE = "automated-security-response-member-cloudtrail.template"
WRITER = f"arn:aws:iam::{ADMIN_ACCOUNT}:role/{solution.CROSS_ACCOUNT_LOG_WRITER_ROLE}"
PROCESSOR = solution.lambda_function_name("EventProcessor")
GROUP = solution.ACTION_LOG_GROUP

pytestmark = pytest.mark.stack_parameters(LogWriterRoleArn=WRITER)


def _lookup_id(template: dict) -> str:
    [logical_id] = [k for k, v in template["Resources"].items() if v["Type"] == "Custom::OrgIdLookup"]
    return logical_id


def _writer_documents(org_id: str) -> tuple[dict, dict]:
    """The writer role's trust and policy as the admin template deploys them in the admin account."""
    template = synthesized_templates()[ADMIN_TEMPLATE]
    resolver = Resolver(template, Location(ADMIN_ACCOUNT, REGION), {}, {_lookup_id(template): {"Ref": org_id}})
    [role] = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Role" and r["Properties"].get("RoleName") == solution.CROSS_ACCOUNT_LOG_WRITER_ROLE
    ]
    props = resolver.value(role["Properties"])
    return props["AssumeRolePolicyDocument"], props["Policies"][0]


def _processor_environment(account: str) -> dict[str, str]:
    """The processor's environment as the member stack passes it (asr/member/stack.py -> nested template)."""
    template = synthesized_templates()[MEMBER_TEMPLATE]
    resolver = Resolver(
        template,
        Location(account, REGION),
        {"Namespace": "sim", "LogWriterRoleArn": WRITER, "CloudTrailLogGroupName": GROUP},
    )
    [function] = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("FunctionName") == PROCESSOR
    ]
    return resolver.value(function["Properties"]["Environment"]["Variables"])


def _session(account: str) -> boto3.Session:
    """The harness acting in ``account`` (unchecked: a role of no template)."""
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/caller", RoleSessionName="harness"
    )["Credentials"]
    return new_session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )


class World:
    def __init__(self, monkeypatch, iam_enforcer, as_function) -> None:
        self.monkeypatch = monkeypatch
        self.enforcer = iam_enforcer
        self.as_function = as_function
        self.admin = _session(ADMIN_ACCOUNT)
        self.org_id = UNAVAILABLE
        self.handler = handler.lambda_handler
        self.saved_physical: dict | None = None

    def deploy_admin(self, org_id: str) -> None:
        """The admin stack's Action Log: the log group, and the writer role made from the template
        with the organization id the lookup answered (the enforcer reads the same template)."""
        self.org_id = org_id
        trust, policy = _writer_documents(org_id)
        iam = self.admin.client("iam")
        iam.create_role(RoleName=solution.CROSS_ACCOUNT_LOG_WRITER_ROLE, AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(
            RoleName=solution.CROSS_ACCOUNT_LOG_WRITER_ROLE,
            PolicyName=policy["PolicyName"],
            PolicyDocument=json.dumps(policy["PolicyDocument"]),
        )
        self.admin.client("logs").create_log_group(logGroupName=GROUP)
        roles = self.enforcer.roles
        self.saved_physical = self.saved_physical or dict(roles.source(ADMIN_TEMPLATE).physical)
        lookup = _lookup_id(synthesized_templates()[ADMIN_TEMPLATE])
        roles.set_physical(ADMIN_TEMPLATE, {**self.saved_physical, lookup: {"Ref": org_id}})

    def member(self, account: str) -> boto3.Session:
        """A member account with the Action Log stack: its bucket; the processor runs there as its role."""
        session = _session(account)
        env = _processor_environment(account)
        bucket = solution.management_events_bucket("sim", account, REGION)
        session.client("s3").create_bucket(Bucket=bucket)
        creds = session.get_credentials()
        for name, value in (
            ("AWS_ACCESS_KEY_ID", creds.access_key),
            ("AWS_SECRET_ACCESS_KEY", creds.secret_key),
            ("AWS_SESSION_TOKEN", creds.token),
            *env.items(),
        ):
            self.monkeypatch.setenv(name, value)
        self.monkeypatch.setattr(boto3, "DEFAULT_SESSION", new_session())
        self.monkeypatch.setattr(handler, "lambda_handler", self.handler)  # one account at a time
        self.as_function(handler, PROCESSOR, account)
        return session

    def messages(self) -> list[dict]:
        logs = self.admin.client("logs")
        return [
            json.loads(e["message"])
            for s in logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
            for e in logs.get_log_events(logGroupName=GROUP, logStreamName=s["logStreamName"])["events"]
        ]


@pytest.fixture
def world(monkeypatch, iam_enforcer, as_function) -> Iterator[World]:
    with multi_account_moto(monkeypatch, account=ADMIN_ACCOUNT):
        made = World(monkeypatch, iam_enforcer, as_function)
        yield made
        if made.saved_physical is not None:  # the roles variant is cached per parameter set: restore it
            iam_enforcer.roles.set_physical(ADMIN_TEMPLATE, made.saved_physical)


def _time(minutes_ago: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(account: str, name: str, *, minutes_ago: float = 5, **changes) -> dict:
    """A CloudTrail record as the member trail writes it: a remediation role's call through SSM."""
    role = changes.pop("role", "SO0111-S3BlockDenylist-sim")
    bucket = f"bucket-{name.lower()}"
    base = {
        "eventVersion": "1.09",
        "userIdentity": identity(role, account=account),
        "eventTime": _time(minutes_ago),
        "eventSource": "s3.amazonaws.com",
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "ssm.amazonaws.com",
        "userAgent": "ssm.amazonaws.com",
        "requestParameters": {"bucketName": bucket, "Host": f"{bucket}.s3.eu-west-1.amazonaws.com"},
        "responseElements": None,
        "additionalEventData": {"SignatureVersion": "SigV4", "bytesTransferredIn": 0},
        "requestID": "C3D13FE58DE4C810",
        "eventID": "3a1b2c4d-1111-2222-3333-444455556666",
        "readOnly": False,
        "resources": [{"accountId": account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "clientProvidedHostHeader": f"{bucket}.s3.amazonaws.com"},
    }
    return {**base, **changes}


def trail_key(account: str, stamp: str) -> str:
    """Where CloudTrail delivers a log file (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html)."""
    return (
        f"cloudtrail-logs/AWSLogs/{account}/CloudTrail/eu-west-1/2026/11/23/"
        f"{account}_CloudTrail_eu-west-1_20261123T{stamp}Z_a1B2c3D4e5F6g7H8.json.gz"
    )


def put_files(session: boto3.Session, account: str, files: dict[str, bytes]) -> dict:
    """Upload the files; the S3 notification (one record per object, as S3 sends them) naming them all."""
    bucket = solution.management_events_bucket("sim", account, REGION)
    s3 = session.client("s3")
    records = []
    for key, body in files.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        records.append(
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": _time(1),
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:AROAEXAMPLE:regionalDeliverySession"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "ActionLog",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": key, "size": len(body)},
                },
            }
        )
    return {"Records": records}


def gz(records: list[dict]) -> bytes:
    return gzip.compress(json.dumps({"Records": records}).encode())


def test_a_member_of_the_organization_delivers_only_the_solutions_actions(world: World):
    orgs = world.admin.client("organizations")
    org_id = orgs.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    member = orgs.create_account(AccountName="workload", Email="w@example.com")["CreateAccountStatus"]["AccountId"]
    world.deploy_admin(org_id)
    session = world.member(member)
    others = [
        record(member, "PutBucketPolicy", role="Admin", sourceIPAddress="203.0.113.10"),  # a person
        record(member, "DeleteBucket", role="Admin", userIdentity=identity("Admin", member, session="SO0111-x")),
        record(member, "StartAutomationExecution", role="SO0111-ASR-Orchestrator-Member"),
        record(member, "PutBucketAcl", userIdentity=identity("SO0111-S3BlockDenylist-sim", "999999999999")),
        record(member, "PutBucketTagging", sourceIPAddress="AWS Internal"),
    ]
    ours = [record(member, "PutPublicAccessBlock", minutes_ago=6), record(member, "PutBucketVersioning", minutes_ago=4)]
    event = put_files(
        session,
        member,
        {
            trail_key(member, "1000"): gz([others[0], ours[0], others[1], others[2]]),
            trail_key(member, "1005"): b"\x1f\x8b\x08\x00" + b"\x00" * 20,  # gzip header, corrupt body
            trail_key(member, "1010"): gzip.compress(b'{"Records": [{"eventName": '),  # malformed JSON
            trail_key(member, "1015"): gz(others[3:]),  # nothing of ours
            trail_key(member, "1020"): gz([ours[1]]),
        },
    )
    assert handler.lambda_handler(event, None) == {"files": 5, "forwarded": 2, "failed": 2}

    arrived = world.messages()
    assert [m["eventName"] for m in sorted(arrived, key=lambda m: m["eventTime"])] == [
        "PutPublicAccessBlock",
        "PutBucketVersioning",
    ]
    assert all(set(m) == set(handler.KEPT_FIELDS) and m["recipientAccountId"] == member for m in arrived)
    # the enforcer decided each hop as AWS would: the trust through the organization, then the writes
    decided = {(r.principal.split("/")[-1], r.action, r.allowed) for r in world.enforcer.records}
    processor_role = world.enforcer.roles.function_role(PROCESSOR, member).split("/")[-1]
    assert {
        (processor_role, "s3:GetObject", True),
        (processor_role, "sts:AssumeRole", True),
        (solution.CROSS_ACCOUNT_LOG_WRITER_ROLE, "logs:CreateLogStream", True),
        (solution.CROSS_ACCOUNT_LOG_WRITER_ROLE, "logs:PutLogEvents", True),
    } <= decided
    trust = [r for r in world.enforcer.records if r.action == "sts:AssumeRole" and "trust" in r.statement]
    assert trust and all(r.allowed for r in trust)


def test_an_account_outside_the_organization_is_refused_by_the_trust(world: World):
    orgs = world.admin.client("organizations")
    world.deploy_admin(orgs.create_organization(FeatureSet="ALL")["Organization"]["Id"])
    session = world.member(ACCOUNT)  # 111111111111: in no organization
    event = put_files(session, ACCOUNT, {trail_key(ACCOUNT, "1000"): gz([record(ACCOUNT, "PutPublicAccessBlock")])})
    with (
        world.enforcer.expect_denial(lambda d: d.action == "sts:AssumeRole" and d.resource == WRITER) as denied,
        pytest.raises(Exception, match="AccessDenied"),
    ):
        handler.lambda_handler(event, None)
    assert denied and "does not admit" in denied[0].detail
    assert world.messages() == []


def test_without_organizations_only_the_admin_account_itself_can_write(world: World):
    """The lookup's sentinel: the organization statement admits nobody, the admin account still writes."""
    world.deploy_admin(UNAVAILABLE)
    trust, _ = _writer_documents(UNAVAILABLE)
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "org-id-unavailable"}}
    # another account (even one of an organization, which is not the admin's): refused
    other_admin = _session("444444444444")
    other_admin.client("organizations").create_organization(FeatureSet="ALL")
    session = world.member("444444444444")
    event = put_files(session, "444444444444", {trail_key("444444444444", "1000"): gz([record("444444444444", "X")])})
    with (
        world.enforcer.expect_denial(lambda d: d.action == "sts:AssumeRole") as denied,
        pytest.raises(Exception, match="AccessDenied"),
    ):
        handler.lambda_handler(event, None)
    assert denied
    # the admin account's own member stack: admitted by the AdminAccount statement
    session = world.member(ADMIN_ACCOUNT)
    key = trail_key(ADMIN_ACCOUNT, "1005")
    event = put_files(session, ADMIN_ACCOUNT, {key: gz([record(ADMIN_ACCOUNT, "PutPublicAccessBlock")])})
    assert handler.lambda_handler(event, None) == {"files": 1, "forwarded": 1, "failed": 0}
    assert [m["recipientAccountId"] for m in world.messages()] == [ADMIN_ACCOUNT]


def test_the_dashboards_logs_insights_query_finds_the_forwarded_events(world: World):
    """What moto's Logs Insights runs of ACTION_LOG_QUERY: ``fields`` (only @timestamp, @message,
    @logStream, @log: it discovers no JSON fields), ``sort @timestamp desc`` (it sorts by timestamp
    only) and ``limit``. The discovered fields the widget shows (eventSource, eventName, awsRegion,
    recipientAccountId, resources.0.ARN) are checked in each @message: Logs Insights flattens a JSON
    event's arrays as ``name.index.key`` (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_AnalyzeLogData-discoverable-fields.html)."""
    orgs = world.admin.client("organizations")
    org_id = orgs.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    member = orgs.create_account(AccountName="workload", Email="w@example.com")["CreateAccountStatus"]["AccountId"]
    world.deploy_admin(org_id)
    session = world.member(member)
    names = [f"PutBucketPolicy{i:02d}" for i in range(25)]  # 25 > the widget's limit of 20
    records = [record(member, n, minutes_ago=30 - i) for i, n in enumerate(names)]
    event = put_files(session, member, {trail_key(member, "1000"): gz(records)})
    assert handler.lambda_handler(event, None)["forwarded"] == 25

    logs = world.admin.client("logs")
    now = dt.datetime.now(dt.UTC)
    query_id = logs.start_query(
        logGroupName=GROUP,
        startTime=int((now - dt.timedelta(hours=1)).timestamp()),
        endTime=int(now.timestamp()) + 60,
        queryString=" | ".join(ACTION_LOG_QUERY),
    )["queryId"]
    answer = logs.get_query_results(queryId=query_id)
    assert answer["status"] == "Complete"
    rows = [{f["field"]: f["value"] for f in row} for row in answer["results"]]
    assert len(rows) == 20
    stamps = [int(r["@timestamp"]) for r in rows]
    assert stamps == sorted(stamps, reverse=True)
    messages = [json.loads(r["@message"]) for r in rows]
    assert [m["eventName"] for m in messages] == names[::-1][:20]  # newest first
    for message in messages:
        assert message["eventSource"] == "s3.amazonaws.com" and message["awsRegion"] == "eu-west-1"
        assert message["recipientAccountId"] == member
        assert message["resources"][0]["ARN"].startswith("arn:aws:s3:::bucket-")
