"""What the admin template declares for the orchestrator."""

from __future__ import annotations

import json

import pytest

from asr import solution
from tests.orchestrator.harness import admin_template


@pytest.fixture(scope="module")
def template() -> dict:
    return admin_template()


def _of(template: dict, rtype: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == rtype}


def test_state_machine(template):
    [machine] = _of(template, "AWS::StepFunctions::StateMachine").values()
    props = machine["Properties"]
    assert props["StateMachineName"] == solution.ORCHESTRATOR_NAME
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is True
    destination = json.dumps(props["LoggingConfiguration"]["Destinations"])
    assert f"log-group:{solution.ORCHESTRATOR_LOG_GROUP}:*" in destination
    assert machine["DeletionPolicy"] == "Retain"
    log_stack = next(  # the nested log stack, under the reference's logical id (docs/upgrade.md)
        k for k, v in _of(template, "AWS::CloudFormation::Stack").items() if "orchestrator-log" in json.dumps(v)
    )
    assert log_stack in machine["DependsOn"]  # the log group exists first (unless reused)
    definition = json.dumps(props["DefinitionString"])
    assert '\\"TimeoutSeconds\\":5400' in definition  # 90 minutes


def test_scheduling_queue_table_and_dlq(template):
    queues = _of(template, "AWS::SQS::Queue")
    assert len(queues) == 2 and all("KmsMasterKeyId" in q["Properties"] for q in queues.values())
    [main] = [q for q in queues.values() if "RedrivePolicy" in q["Properties"]]
    assert main["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 10
    # the scheduling table (the other one is the remediation history: tests/orchestrator/test_history.py)
    [table] = [
        t
        for t in _of(template, "AWS::DynamoDB::Table").values()
        if t["Properties"]["KeySchema"][0]["AttributeName"] == "AccountID-Region"
    ]
    props = table["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "AccountID-Region", "KeyType": "HASH"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "TTL", "Enabled": True}
    assert props["DeletionProtectionEnabled"] is True
    [mapping] = _of(template, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["BatchSize"] == 1


def test_functions_and_roles(template):
    functions = {
        f["Properties"]["FunctionName"]: f["Properties"] for f in _of(template, "AWS::Lambda::Function").values()
    }
    for name in (solution.RESOLVE_FUNCTION, solution.WORKER_FUNCTION, solution.NOTIFY_FUNCTION):
        assert functions[name]["TracingConfig"] == {"Mode": "Active"}
        assert functions[name]["Code"]["S3Key"]["Fn::Join"][1][-1].endswith("/orchestrator.zip")
        assert "ReservedConcurrentExecutions" not in functions[name]  # correct with concurrency > 1
    assert solution.CUSTOM_ACTION_FUNCTION in functions
    roles = {r["Properties"].get("RoleName") for r in _of(template, "AWS::IAM::Role").values()}
    assert solution.ORCHESTRATOR_ADMIN_ROLE in roles


def test_custom_actions_and_rules(template):
    targets = {k: v for k, v in template["Resources"].items() if v["Type"] == "Custom::ActionTarget"}
    by_id = {v["Properties"]["Id"]: v for v in targets.values()}
    assert by_id[solution.CUSTOM_ACTION_ID]["Properties"]["Name"] == solution.CUSTOM_ACTION_NAME
    assert "Condition" not in by_id[solution.CUSTOM_ACTION_ID]
    assert by_id[solution.TICKETING_ACTION_ID]["Properties"]["Name"] == solution.TICKETING_ACTION_NAME
    assert by_id[solution.TICKETING_ACTION_ID]["Condition"] == "orchestratorTicketingEnabledCondition"
    rules = {r["Properties"]["Name"]: r for r in _of(template, "AWS::Events::Rule").values()}
    assert set(rules) >= {solution.CUSTOM_ACTION_RULE, solution.TICKETING_ACTION_RULE}
    pattern = rules[solution.CUSTOM_ACTION_RULE]["Properties"]["EventPattern"]
    assert pattern["detail-type"] == [solution.EVENT_CUSTOM_ACTION]
    assert pattern["detail"] == {"findings": {"Compliance": {"Status": ["FAILED", "WARNING"]}}}
    assert rules[solution.TICKETING_ACTION_RULE]["Condition"] == "orchestratorTicketingEnabledCondition"


def test_orchestrator_arn_parameter_and_playbook_dependencies(template):
    params = {p["Properties"]["Name"]: p for p in _of(template, "AWS::SSM::Parameter").values()}
    arn = params[solution.SSM_ORCHESTRATOR_ARN]["Properties"]["Value"]
    assert arn == {"Ref": next(iter(_of(template, "AWS::StepFunctions::StateMachine")))}
    # by name: the parameter's logical id is the reference's (docs/upgrade.md)
    [param_id] = [
        k for k, p in _of(template, "AWS::SSM::Parameter").items() if p is params[solution.SSM_ORCHESTRATOR_ARN]
    ]
    for logical_id, nested in _of(template, "AWS::CloudFormation::Stack").items():
        if logical_id.startswith("PlaybookAdminStack"):
            assert param_id in nested["DependsOn"]


def test_dead_letters_raise_an_alarm(template):
    alarms = {a["Properties"]["AlarmName"]: a for a in _of(template, "AWS::CloudWatch::Alarm").values()}
    alarm = alarms[solution.SCHEDULING_DLQ_ALARM]
    assert alarm["Condition"] == "isUsingCloudWatchMetricsAlarms"
    assert alarm["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Properties"]["AlarmActions"]
