"""ASR-EnableAPIGatewayExecutionLogs: the document through the runner.

REST API stages run on moto. moto 5.2.5's apigatewayv2 has no UpdateStage, so for WebSocket
stages the apigatewayv2 client is a botocore Stubber checked against the real API shapes,
patched into the script through boto3.client (apigateway GetAccount stays on moto). Any
apigatewayv2 call not expected below fails the run, which proves what is (not) sent.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_api_gateway_execution_logs import (
    RemediationError,
    parse_suffix,
    rest_settings_to_change,
    websocket_settings_to_change,
)
from tests.remediations.helpers import step_output
from tests.remediations.helpers.apigateway import make_rest_stage, stage
from tests.remediations.helpers.stubs import stubbed_boto3_client

DOC = "EnableAPIGatewayExecutionLogs"
LOGS_ROLE = "arn:aws:iam::111111111111:role/apigateway-cloudwatch-logs"
WS_API = "a1b2c3d4e5"
WS_SUFFIX = f"/apis/{WS_API}/stages/prod"


def set_logs_role() -> None:
    boto3.client("apigateway").update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": LOGS_ROLE}]
    )


# --- pure logic -------------------------------------------------------------------------


def test_rest_settings_missing_or_other_level_are_changed_stage_wide_first():
    stage = {
        "methodSettings": {"~1/b/GET": {"loggingLevel": "OFF"}, "~1/a/GET": {}, "~1/c/GET": {"loggingLevel": "INFO"}}
    }
    assert rest_settings_to_change(stage, "INFO") == ["*/*", "~1/a/GET", "~1/b/GET"]
    assert rest_settings_to_change({"methodSettings": {"*/*": {"loggingLevel": "INFO"}}}, "ERROR") == ["*/*"]
    assert rest_settings_to_change({"methodSettings": {"*/*": {"loggingLevel": "ERROR"}}}, "ERROR") == []


def test_websocket_settings_missing_or_other_level_are_changed_default_first():
    stage = {
        "DefaultRouteSettings": {"LoggingLevel": "INFO"},
        "RouteSettings": {"$connect": {}, "b": {"LoggingLevel": "INFO"}},
    }
    assert websocket_settings_to_change(stage, "INFO") == ["$connect"]
    assert websocket_settings_to_change({}, "ERROR") == ["DefaultRouteSettings"]


@pytest.mark.parametrize(
    "suffix", ["/restapis/a1b2c3d4e5/stages/prod/x", "restapis/a1b2c3d4e5/stages/prod", "/restapis/A1B2C3D4E5/stages/p"]
)
def test_parse_suffix_names_the_input(suffix):
    with pytest.raises(RemediationError, match=f"APIGatewayStageArnSuffix {suffix}: not /restapis/"):
        parse_suffix(suffix)


# --- REST API stages on moto ------------------------------------------------------------


def rest_stage(name: str) -> tuple[str, str]:
    """A REST API stage with caching/metrics/throttling set, a GET override at OFF and a POST override at INFO."""
    api = make_rest_stage(name, ("GET", "POST"), [
        {"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"},
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "50"},
        {"op": "replace", "path": "/~1/GET/logging/loglevel", "value": "OFF"},
        {"op": "replace", "path": "/~1/GET/caching/ttlInSeconds", "value": "60"},
        {"op": "replace", "path": "/~1/POST/logging/loglevel", "value": "INFO"},
        {"op": "replace", "path": "/~1/POST/logging/dataTrace", "value": "false"},
    ])
    return api, f"/restapis/{api}/stages/prod"


def levels(api: str) -> dict[str, str]:
    return {k: v.get("loggingLevel", "") for k, v in stage(api)["methodSettings"].items()}


def test_document_sets_info_on_every_rest_method_setting_then_changes_nothing(run_runbook):
    set_logs_role()
    api, suffix = rest_stage("target")
    other, _ = rest_stage("bystander")
    before, bystander = stage(api), stage(other)

    first = run_runbook(DOC, APIGatewayStageArnSuffix=suffix, LoggingLevel="INFO")
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    after = stage(api)
    expected = {k: {**v, "loggingLevel": "INFO"} for k, v in before["methodSettings"].items()}
    assert after == {**before, "methodSettings": expected}
    assert after["methodSettings"]["*/*"]["metricsEnabled"] is True
    assert after["methodSettings"]["*/*"]["throttlingRateLimit"] == 50.0
    assert after["methodSettings"]["~1/GET"]["cacheTtlInSeconds"] == 60
    assert stage(other) == bystander
    out = step_output(first, "EnableExecutionLogs.Output")
    assert out["ApiType"] == "REST" and out["ChangedSettings"] == ["*/*", "~1/GET"]

    second = run_runbook(DOC, APIGatewayStageArnSuffix=suffix, LoggingLevel="INFO")
    assert second["AutomationExecutionStatus"] == "Success"
    assert step_output(second, "EnableExecutionLogs.Output")["ChangedSettings"] == []
    assert "nothing changed" in step_output(second, "EnableExecutionLogs.Output")["Message"]
    assert stage(api) == after


def test_document_moves_every_rest_setting_to_error_when_asked(run_runbook):
    set_logs_role()
    api, suffix = rest_stage("target")
    out = run_runbook(DOC, APIGatewayStageArnSuffix=suffix, LoggingLevel="ERROR")
    assert out["AutomationExecutionStatus"] == "Success", out.get("FailureMessage")
    assert levels(api) == {"*/*": "ERROR", "~1/GET": "ERROR", "~1/POST": "ERROR"}
    assert step_output(out, "EnableExecutionLogs.Output")["ChangedSettings"] == ["*/*", "~1/GET", "~1/POST"]


def test_document_refuses_without_the_account_cloudwatch_logs_role(run_runbook):
    api, suffix = rest_stage("target")
    before = stage(api)
    out = run_runbook(DOC, APIGatewayStageArnSuffix=suffix, LoggingLevel="INFO")
    assert out["AutomationExecutionStatus"] == "Failed"
    message = out["FailureMessage"]
    assert f"APIGatewayStageArnSuffix {suffix}: API Gateway has no CloudWatch Logs role" in message
    assert "cloudwatchRoleArn" in message and "AmazonAPIGatewayPushToCloudWatchLogs" in message
    assert "Traceback" not in message
    assert stage(api) == before


GOOD = {"APIGatewayStageArnSuffix": "/restapis/a1b2c3d4e5/stages/prod", "LoggingLevel": "INFO"}


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("APIGatewayStageArnSuffix", "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod"),
        ("APIGatewayStageArnSuffix", "x/restapis/a1b2c3d4e5/stages/prod"),
        ("APIGatewayStageArnSuffix", "/restapis/a1b2c3d4e5/stages/prod/extra"),
        ("APIGatewayStageArnSuffix", "/restapis/a1b2c3d4e5/stages/"),
        ("APIGatewayStageArnSuffix", "/restapis/a1b2c3d4e5/stages/$default"),
        ("LoggingLevel", "OFF"),
        ("LoggingLevel", "INFORMATION"),
        ("LoggingLevel", "info"),
    ],
)
def test_document_rejects_malformed_input(run_runbook, name, bad):
    with pytest.raises(ParameterValidationError, match=name):
        run_runbook(DOC, **{**GOOD, name: bad})


def test_document_fails_on_a_missing_rest_stage(run_runbook):
    set_logs_role()
    other, _ = rest_stage("bystander")
    bystander = stage(other)
    suffix = f"/restapis/{other}/stages/nosuchstage"
    out = run_runbook(DOC, APIGatewayStageArnSuffix=suffix, LoggingLevel="INFO")
    assert out["AutomationExecutionStatus"] == "Failed"
    assert f"APIGatewayStageArnSuffix {suffix}: no such REST API stage" in out["FailureMessage"]
    assert stage(other) == bystander


# --- WebSocket API stages: apigatewayv2 through Stubber ---------------------------------


@pytest.fixture
def v2(aws, monkeypatch):
    with stubbed_boto3_client(monkeypatch, "apigatewayv2") as stub:
        yield stub


def ws_api(protocol: str = "WEBSOCKET") -> dict:
    return {
        "ApiId": WS_API,
        "Name": "chat",
        "ProtocolType": protocol,
        "RouteSelectionExpression": "$request.body.action",
    }


def ws_stage(default_level: str, connect_level: str) -> dict:
    return {
        "StageName": "prod",
        "DefaultRouteSettings": {
            "DataTraceEnabled": False,
            "DetailedMetricsEnabled": True,
            "LoggingLevel": default_level,
            "ThrottlingBurstLimit": 100,
            "ThrottlingRateLimit": 50.0,
        },
        "RouteSettings": {
            "$connect": {"DataTraceEnabled": False, "LoggingLevel": connect_level, "ThrottlingBurstLimit": 10},
            "sendmessage": {"DetailedMetricsEnabled": True, "LoggingLevel": "INFO"},
        },
        "StageVariables": {"color": "blue"},
    }


def expect_read(v2: Stubber, default_level: str, connect_level: str, protocol: str = "WEBSOCKET") -> None:
    v2.add_response("get_api", ws_api(protocol), {"ApiId": WS_API})
    if protocol == "WEBSOCKET":
        v2.add_response("get_stage", ws_stage(default_level, connect_level), {"ApiId": WS_API, "StageName": "prod"})


def test_document_sets_info_on_every_websocket_route_setting_then_changes_nothing(run_runbook, v2):
    set_logs_role()
    before = ws_stage("OFF", "ERROR")
    expect_read(v2, "OFF", "ERROR")
    v2.add_response(
        "update_stage",
        {"StageName": "prod"},
        {
            "ApiId": WS_API,
            "StageName": "prod",
            "DefaultRouteSettings": {**before["DefaultRouteSettings"], "LoggingLevel": "INFO"},
            "RouteSettings": {
                "$connect": {**before["RouteSettings"]["$connect"], "LoggingLevel": "INFO"},
                "sendmessage": before["RouteSettings"]["sendmessage"],
            },
        },
    )
    expect_read(v2, "INFO", "INFO")
    first = run_runbook(DOC, APIGatewayStageArnSuffix=WS_SUFFIX, LoggingLevel="INFO")
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    out = step_output(first, "EnableExecutionLogs.Output")
    assert out["ApiType"] == "WebSocket" and out["ChangedSettings"] == ["DefaultRouteSettings", "$connect"]

    expect_read(v2, "INFO", "INFO")
    expect_read(v2, "INFO", "INFO")
    second = run_runbook(DOC, APIGatewayStageArnSuffix=WS_SUFFIX, LoggingLevel="INFO")
    assert second["AutomationExecutionStatus"] == "Success", second.get("FailureMessage")
    assert step_output(second, "EnableExecutionLogs.Output")["ChangedSettings"] == []


def test_document_fails_when_the_websocket_stage_is_not_updated(run_runbook, v2):
    set_logs_role()
    expect_read(v2, "OFF", "OFF")
    v2.add_response("update_stage", {"StageName": "prod"})
    expect_read(v2, "OFF", "OFF")
    out = run_runbook(DOC, APIGatewayStageArnSuffix=WS_SUFFIX, LoggingLevel="ERROR")
    assert out["AutomationExecutionStatus"] == "Failed"
    assert (
        f"APIGatewayStageArnSuffix {WS_SUFFIX}: route settings ['DefaultRouteSettings', '$connect'"
        in out["FailureMessage"]
    )


def test_document_refuses_a_websocket_stage_without_the_cloudwatch_logs_role(run_runbook, v2):
    expect_read(v2, "OFF", "OFF")  # no update_stage expected: the Stubber fails the run if it is called
    out = run_runbook(DOC, APIGatewayStageArnSuffix=WS_SUFFIX, LoggingLevel="INFO")
    assert out["AutomationExecutionStatus"] == "Failed"
    assert f"APIGatewayStageArnSuffix {WS_SUFFIX}: API Gateway has no CloudWatch Logs role" in out["FailureMessage"]


def test_document_refuses_an_http_api(run_runbook, v2):
    set_logs_role()
    expect_read(v2, "", "", protocol="HTTP")
    out = run_runbook(DOC, APIGatewayStageArnSuffix=WS_SUFFIX, LoggingLevel="INFO")
    assert out["AutomationExecutionStatus"] == "Failed"
    assert f"APIGatewayStageArnSuffix {WS_SUFFIX}: API {WS_API} is a HTTP API" in out["FailureMessage"]


def test_document_fails_on_a_missing_websocket_api(run_runbook, v2):
    set_logs_role()
    v2.add_client_error("get_api", "NotFoundException", "Invalid API identifier specified", 404, {"ApiId": WS_API})
    out = run_runbook(DOC, APIGatewayStageArnSuffix=WS_SUFFIX, LoggingLevel="INFO")
    assert out["AutomationExecutionStatus"] == "Failed"
    assert f"APIGatewayStageArnSuffix {WS_SUFFIX}: no such WebSocket API stage" in out["FailureMessage"]


# --- the control's loggingLevel parameter: "ERROR,INFO" (APIGateway.1 defect) ----------------


def test_document_accepts_the_controls_level_list_and_keeps_settings_already_in_it(run_runbook):
    """Security Hub APIGateway.1's loggingLevel is "ERROR,INFO" by default (either level passes); the
    runbook allowed only INFO or ERROR. A setting at one of the listed levels is kept; others get INFO."""
    set_logs_role()
    api, suffix = rest_stage("target")
    boto3.client("apigateway").update_stage(
        restApiId=api, stageName="prod",
        patchOperations=[{"op": "replace", "path": "/~1/POST/logging/loglevel", "value": "ERROR"}],
    )  # fmt: skip
    out = run_runbook(DOC, APIGatewayStageArnSuffix=suffix, LoggingLevel="ERROR,INFO")
    assert out["AutomationExecutionStatus"] == "Success", out.get("FailureMessage")
    assert levels(api) == {"*/*": "INFO", "~1/GET": "INFO", "~1/POST": "ERROR"}
    result = step_output(out, "EnableExecutionLogs.Output")
    assert result["ChangedSettings"] == ["*/*", "~1/GET"] and result["LoggingLevel"] == "INFO"

    again = run_runbook(DOC, APIGatewayStageArnSuffix=suffix, LoggingLevel="INFO,ERROR")
    assert again["AutomationExecutionStatus"] == "Success"
    assert step_output(again, "EnableExecutionLogs.Output")["ChangedSettings"] == []


@pytest.mark.parametrize("bad", ["ERROR,OFF", "ERROR;INFO", ",INFO", "ERROR,INFO,DEBUG"])
def test_document_rejects_a_level_list_with_another_level(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="LoggingLevel"):
        run_runbook(DOC, **{**GOOD, "LoggingLevel": bad})


@pytest.fixture
def control_world(monkeypatch):
    """moto as the playbook tests run it (Security Hub BatchUpdateFindings, the solution's parameters)."""
    from tests.conftest import ACCOUNT, multi_account_moto
    from tests.playbooks import securityhub
    from tests.playbooks.harness import CLIENTS, solution_parameters

    CLIENTS.clear()
    securityhub.install(monkeypatch)
    with multi_account_moto(monkeypatch):
        solution_parameters(ACCOUNT, "us-east-1")
        yield
    CLIENTS.clear()


@pytest.mark.parametrize("parameters", [{"loggingLevel": "ERROR,INFO"}, {}])
def test_control_runbook_passes_the_controls_level_list_through(control_world, parameters):
    """The finding's Config rule carries loggingLevel "ERROR,INFO" (or nothing: the control's default, the
    same list): the control runbook must run, and the stage then passes APIGateway.1."""
    import json

    from asr.controls import Resource, Status, evaluate
    from asr.playbooks import data
    from asr.simulator.execution import Status as Run
    from tests.conftest import ACCOUNT
    from tests.playbooks.harness import client, finding_for, import_finding, real_registry, run_control

    set_logs_role()
    _, suffix = rest_stage("target")
    rule = "securityhub-api-gw-execution-logging-enabled-abc123"
    client("config").put_config_rule(ConfigRule={
        "ConfigRuleName": rule,
        "Source": {"Owner": "AWS", "SourceIdentifier": "API_GW_EXECUTION_LOGGING_ENABLED"},
        "InputParameters": json.dumps(parameters),
    })  # fmt: skip
    arn = f"arn:aws:apigateway:us-east-1::{suffix}"
    std = data.load_standard("SC")
    finding = finding_for(std, "APIGateway.1", arn, resource_type="AwsApiGatewayStage", config_rule_name=rule)
    import_finding(finding)
    _, execution = run_control(real_registry(), std, "APIGateway.1", finding)
    assert execution.status is Run.SUCCESS, execution.failure_message
    verdict = evaluate("APIGateway.1", boto3.Session(), Resource.of_arn(arn, "AwsApiGatewayStage"), parameters)
    assert verdict.status is Status.PASSED, verdict.reason
    assert ACCOUNT in finding["AwsAccountId"]
