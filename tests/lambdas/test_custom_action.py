"""Custom::ActionTarget provider, against the real Security Hub API shapes (botocore
Stubber: moto has no action-target APIs)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import boto3
import pytest
from botocore.stub import Stubber

from lambdas import cfn_response
from lambdas.custom_action import handler

FN_ARN = "arn:aws:lambda:us-east-1:111111111111:function:SO0111-SHARR-CustomAction"
TARGET = "arn:aws:securityhub:us-east-1:111111111111:action/custom/ASRRemediation"
PROPS = {"ServiceToken": FN_ARN, "Name": "Remediate with ASR", "Description": "Submit.", "Id": "ASRRemediation"}


@pytest.fixture(autouse=True)
def _as_the_provider(as_function):
    """The provider runs as its synthesized execution role."""
    as_function(handler, "SO0111-SHARR-CustomAction")


@pytest.fixture
def hub():
    client = boto3.client("securityhub", region_name="us-east-1")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


@pytest.fixture
def responses(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    sent: list[dict] = []
    monkeypatch.setattr(
        handler,
        "respond",
        lambda event, status, physical, reason="", data=None: sent.append(
            {"Status": status, "PhysicalResourceId": physical, "Reason": reason, "Data": data or {}}
        ),
    )
    return sent


def _event(kind: str, **extra) -> dict:
    return {
        "RequestType": kind,
        "ResponseURL": "https://example.invalid/r",
        "StackId": "s",
        "RequestId": "req-1",
        "LogicalResourceId": "RemediateWithSharr",
        "ResourceProperties": PROPS,
        **extra,
    }


def _call(event, client) -> None:
    handler.lambda_handler(event, SimpleNamespace(invoked_function_arn=FN_ARN), securityhub=client)


def test_create(hub, responses):
    client, stub = hub
    stub.add_response(
        "create_action_target",
        {"ActionTargetArn": TARGET},
        {"Name": PROPS["Name"], "Description": PROPS["Description"], "Id": PROPS["Id"]},
    )
    _call(_event("Create"), client)
    assert responses == [{"Status": "SUCCESS", "PhysicalResourceId": TARGET, "Reason": "", "Data": {"Arn": TARGET}}]


def test_create_adopts_an_existing_target(hub, responses):
    client, stub = hub
    stub.add_client_error("create_action_target", "ResourceConflictException", http_status_code=409)
    stub.add_response(
        "describe_action_targets",
        {"ActionTargets": [{"ActionTargetArn": TARGET, "Name": PROPS["Name"], "Description": "old"}]},
        {"ActionTargetArns": [TARGET]},
    )
    stub.add_response(
        "update_action_target",
        {},
        {"ActionTargetArn": TARGET, "Name": PROPS["Name"], "Description": PROPS["Description"]},
    )
    _call(_event("Create"), client)
    assert responses[0]["Status"] == "SUCCESS" and responses[0]["Data"] == {"Arn": TARGET}


def test_create_conflict_with_something_else_fails(hub, responses):
    client, stub = hub
    stub.add_client_error("create_action_target", "ResourceConflictException", http_status_code=409)
    stub.add_response("describe_action_targets", {"ActionTargets": []}, {"ActionTargetArns": [TARGET]})
    _call(_event("Create"), client)
    assert responses[0]["Status"] == "FAILED" and "conflicts" in responses[0]["Reason"]


def test_update_in_place(hub, responses):
    client, stub = hub
    stub.add_response(
        "update_action_target",
        {},
        {"ActionTargetArn": TARGET, "Name": PROPS["Name"], "Description": PROPS["Description"]},
    )
    _call(_event("Update", PhysicalResourceId=TARGET, OldResourceProperties=PROPS), client)
    assert responses[0]["PhysicalResourceId"] == TARGET


@pytest.mark.parametrize("error", [None, "ResourceNotFoundException", "InvalidAccessException"])
def test_delete_is_clean_and_idempotent(hub, responses, error):
    client, stub = hub
    if error:
        stub.add_client_error("delete_action_target", error, expected_params={"ActionTargetArn": TARGET})
    else:
        stub.add_response("delete_action_target", {"ActionTargetArn": TARGET}, {"ActionTargetArn": TARGET})
    _call(_event("Delete", PhysicalResourceId=TARGET), client)
    assert responses[0]["Status"] == "SUCCESS"


def test_delete_of_a_failed_create_calls_nothing(hub, responses):
    client, _ = hub
    _call(_event("Delete", PhysicalResourceId="req-1"), client)
    assert responses[0]["Status"] == "SUCCESS"


def test_other_errors_fail_the_request(hub, responses):
    client, stub = hub
    stub.add_client_error("delete_action_target", "InternalException", http_status_code=500)
    _call(_event("Delete", PhysicalResourceId=TARGET), client)
    assert responses[0]["Status"] == "FAILED"


@pytest.mark.parametrize("props", [{}, {**PROPS, "Id": ""}, {**PROPS, "Name": 5}])
def test_bad_properties(hub, responses, props):
    client, _ = hub
    _call(_event("Create", ResourceProperties=props), client)
    assert responses[0]["Status"] == "FAILED" and "property" in responses[0]["Reason"]


def test_respond_puts_the_answer_to_the_presigned_url(monkeypatch: pytest.MonkeyPatch):
    seen = {}

    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def read(self):
            return b""

    def urlopen(request, timeout):
        seen.update(method=request.get_method(), url=request.full_url, body=json.loads(request.data))
        return Response()

    monkeypatch.setattr(cfn_response.urllib.request, "urlopen", urlopen)
    handler.respond(_event("Create"), "SUCCESS", TARGET, data={"Arn": TARGET})
    assert seen["method"] == "PUT" and seen["body"]["PhysicalResourceId"] == TARGET
    assert seen["body"]["Data"] == {"Arn": TARGET} and seen["body"]["RequestId"] == "req-1"
