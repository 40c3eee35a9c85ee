"""Custom::OrgIdLookup (lambdas/org_lookup): DescribeOrganization on moto, the answer PUT to a
real pre-signed-URL stand-in (an HTTP server on 127.0.0.1), as its synthesized execution role."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import boto3
import pytest
from botocore.stub import Stubber

from lambdas.org_lookup import handler
from tests.conftest import ADMIN_ACCOUNT, multi_account_moto

FUNCTION = "SO0111-ASR-OrgIdLookup"
CONTEXT = SimpleNamespace(invoked_function_arn=f"arn:aws:lambda:us-east-1:{ADMIN_ACCOUNT}:function:{FUNCTION}")


@pytest.fixture
def cloudformation():
    """The pre-signed ResponseURL: records each PUT (path, headers, JSON body)."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "content_type": self.headers.get("Content-Type"), **json.loads(body)})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/cfn-response?X-Amz-Signature=abc", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def admin(monkeypatch, as_function):
    """moto with the admin account's credentials; the handler runs as its execution role there."""
    with multi_account_moto(monkeypatch, account=ADMIN_ACCOUNT):
        as_function(handler, FUNCTION, ADMIN_ACCOUNT)
        yield


def _event(kind: str, url: str, **extra) -> dict:
    return {
        "RequestType": kind,
        "ResponseURL": url,
        "StackId": f"arn:aws:cloudformation:us-east-1:{ADMIN_ACCOUNT}:stack/asr-admin/1",
        "RequestId": "req-1",
        "LogicalResourceId": "ActionLogOrgIdLookupResultA157C7D2",
        "ResourceType": "Custom::OrgIdLookup",
        "ResourceProperties": {"ServiceToken": CONTEXT.invoked_function_arn, "Version": "v2.4.0"},
        **extra,
    }


def test_in_an_organization_it_answers_the_organization_id(admin, cloudformation):
    url, received = cloudformation
    org_id = boto3.client("organizations").create_organization(FeatureSet="ALL")["Organization"]["Id"]
    handler.lambda_handler(_event("Create", url), CONTEXT)
    [answer] = received
    assert answer["path"] == "/cfn-response?X-Amz-Signature=abc" and answer["content_type"] == ""
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == org_id
    assert answer["Data"]["OrganizationId"] == org_id
    assert org_id in answer["Data"]["Status"] and "receives from the accounts" in answer["Data"]["Status"]
    assert (answer["StackId"], answer["RequestId"], answer["LogicalResourceId"]) == (
        _event("Create", url)["StackId"],
        "req-1",
        "ActionLogOrgIdLookupResultA157C7D2",
    )


def test_a_member_account_of_an_organization_gets_the_same_id(monkeypatch, as_function, cloudformation):
    """The admin account is usually not the management account: DescribeOrganization works from any member."""
    url, received = cloudformation
    with multi_account_moto(monkeypatch, account="999999999999"):
        orgs = boto3.client("organizations")
        org_id = orgs.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        status = orgs.create_account(AccountName="security", Email="sec@example.com")["CreateAccountStatus"]
        member = status["AccountId"]
        creds = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{member}:role/caller", RoleSessionName="member")
        keys = creds["Credentials"]
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys["SecretAccessKey"])
        monkeypatch.setenv("AWS_SESSION_TOKEN", keys["SessionToken"])
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
        as_function(handler, FUNCTION, member)
        handler.lambda_handler(_event("Create", url), CONTEXT)
    [answer] = received
    assert answer["Status"] == "SUCCESS" and answer["Data"]["OrganizationId"] == org_id


def test_without_organizations_it_answers_the_sentinel_and_says_why(admin, cloudformation):
    url, received = cloudformation
    handler.lambda_handler(_event("Create", url), CONTEXT)  # moto: AWSOrganizationsNotInUseException
    [answer] = received
    assert answer["Status"] == "SUCCESS"  # the stack is created; the role then trusts only this account
    assert answer["Data"]["OrganizationId"] == handler.UNAVAILABLE == "org-id-unavailable"
    status = answer["Data"]["Status"]
    assert status.startswith("The Action Log cannot receive from other accounts: this account is not a member")
    assert "CrossAccountLogWriterRole trusts only this account" in status


def test_access_denied_degrades_the_same_way_naming_the_error(admin, cloudformation):
    """An SCP denying DescribeOrganization (moto evaluates no SCP: the real error shape, by Stubber)."""
    url, received = cloudformation
    client = boto3.client("organizations")
    with Stubber(client) as stub:
        stub.add_client_error(
            "describe_organization", "AccessDeniedException", "denied by a service control policy", 400
        )
        handler.lambda_handler(_event("Update", url, PhysicalResourceId="o-abcdefghij"), CONTEXT, organizations=client)
    [answer] = received
    assert answer["Status"] == "SUCCESS" and answer["PhysicalResourceId"] == handler.UNAVAILABLE
    assert answer["Data"]["OrganizationId"] == handler.UNAVAILABLE
    assert (
        "DescribeOrganization was denied (AccessDeniedException: denied by a service control policy)"
        in (answer["Data"]["Status"])
    )


def test_other_errors_fail_the_request_with_the_reason(admin, cloudformation):
    url, received = cloudformation
    client = boto3.client("organizations")
    with Stubber(client) as stub:
        stub.add_client_error("describe_organization", "TooManyRequestsException", "slow down", 400)
        handler.lambda_handler(_event("Create", url), CONTEXT, organizations=client)
    [answer] = received
    assert answer["Status"] == "FAILED"
    assert "TooManyRequestsException" in answer["Reason"] and "slow down" in answer["Reason"]


def test_delete_never_fails_and_calls_nothing(admin, cloudformation):
    url, received = cloudformation
    client = boto3.client("organizations")
    with Stubber(client):  # no response queued: any call would raise
        handler.lambda_handler(_event("Delete", url, PhysicalResourceId="o-abcdefghij"), CONTEXT, organizations=client)
        handler.lambda_handler({**_event("Delete", url), "ResourceProperties": None}, CONTEXT, organizations=client)
    assert [(a["Status"], a["PhysicalResourceId"]) for a in received] == [
        ("SUCCESS", "o-abcdefghij"),
        ("SUCCESS", handler.UNAVAILABLE),
    ]


def test_an_unknown_request_type_is_refused_by_name(admin, cloudformation):
    url, received = cloudformation
    handler.lambda_handler(_event("Replace", url), CONTEXT)
    [answer] = received
    assert answer["Status"] == "FAILED"
    assert "RequestType must be Create, Update or Delete, got 'Replace'" in answer["Reason"]
