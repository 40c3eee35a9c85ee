"""Each action on small purpose-written documents against moto."""

from __future__ import annotations

import json
import sys

import boto3
import pytest

from asr.simulator import FakeClock
from tests.simulator.conftest import ACCOUNT, REGION
from tests.simulator.helpers import api, doc, echo, events_of, returns, script

# -- aws:executeScript -------------------------------------------------------------


def test_script_outputs_with_selectors_and_types(run_doc) -> None:
    step = returns(
        "S",
        {"n": "7", "flag": "true", "items": ["a", "b"], "map": {"k": "v"}, "deep": [{"id": 9}]},
        outputs=[
            {"Name": "N", "Selector": "$.Payload.n", "Type": "Integer"},
            {"Name": "Flag", "Selector": "$.Payload.flag", "Type": "Boolean"},
            {"Name": "Items", "Selector": "$.Payload.items", "Type": "StringList"},
            {"Name": "Map", "Selector": "$.Payload.map", "Type": "StringMap"},
            {"Name": "Id", "Selector": "$.Payload.deep[0].id"},
        ],
    )
    execution = run_doc(
        doc(
            step,
            echo(
                "E",
                {
                    "n": "{{ S.N }}",
                    "flag": "{{ S.Flag }}",
                    "items": "{{ S.Items }}",
                    "map": "{{ S.Map }}",
                    "id": "{{ S.Id }}",
                },
            ),
        )
    )
    assert execution.status == "Success", execution.failure_message
    assert events_of(execution, "E") == {"n": 7, "flag": True, "items": ["a", "b"], "map": {"k": "v"}, "id": "9"}
    outputs = execution.step("S").to_dict()["Outputs"]
    assert outputs["N"] == ["7"] and outputs["Items"] == ["a", "b"]
    assert json.loads(outputs["OutputPayload"][0])["Payload"]["n"] == "7"


def test_script_exception_fails_the_step_with_its_message_and_no_traceback(run_doc) -> None:
    code = "def handler(events, context):\n    raise RuntimeError('bucket ' + events['b'] + ' is gone')\n"
    execution = run_doc(doc(script("S", code, payload={"b": "x"})))
    step = execution.step("S").to_dict()
    assert execution.status == "Failed"
    assert step["StepStatus"] == "Failed"
    assert step["FailureMessage"] == "RuntimeError: bucket x is gone"
    assert "Traceback" not in step["FailureMessage"]
    assert execution.failure_message == "Step S failed: RuntimeError: bucket x is gone"


def test_script_gets_context_and_a_fresh_namespace(run_doc) -> None:
    counter = (
        "COUNT = 0\ndef handler(events, context):\n    global COUNT\n    COUNT += 1\n    return [COUNT, context]\n"
    )
    outputs = [
        {"Name": "Count", "Selector": "$.Payload[0]", "Type": "Integer"},
        {"Name": "Account", "Selector": "$.Payload[1]['global:ACCOUNT_ID']"},
        {"Name": "Id", "Selector": "$.Payload[1]['automation:EXECUTION_ID']"},
    ]
    execution = run_doc(doc(script("A", counter, outputs=outputs), script("B", counter, outputs=outputs)))
    assert execution.step("A").outputs["Count"] == 1
    assert execution.step("B").outputs["Count"] == 1
    assert execution.step("A").outputs["Account"] == ACCOUNT
    assert execution.step("A").outputs["Id"] == execution.automation_execution_id


def test_script_runs_as_a_real_module_so_dataclasses_work(run_doc) -> None:
    """SSM runs the script as a module; dataclasses with postponed annotations
    look their module up in sys.modules while the class is created."""
    source = (
        "from __future__ import annotations\n"
        "from dataclasses import dataclass\n"
        "@dataclass\n"
        "class Plan:\n"
        "    name: str\n"
        "def handler(events, context):\n"
        "    return Plan('kept').name\n"
    )
    execution = run_doc(doc(script("S", source, outputs=[{"Name": "N", "Selector": "$.Payload"}])))
    assert execution.step("S").outputs["N"] == "kept"
    assert not any(name.startswith("ssm_script_") for name in sys.modules)


def test_script_without_the_handler_or_with_a_syntax_error_fails(run_doc) -> None:
    execution = run_doc(doc(script("S", "def other(e, c):\n    return 1\n")))
    assert "Handler 'handler' is not a function" in execution.failure_message
    execution = run_doc(doc(script("S", "def handler(e, c)\n    return 1\n")))
    assert "SyntaxError while loading the script" in execution.failure_message


def test_script_result_must_be_json(run_doc) -> None:
    execution = run_doc(doc(script("S", "def handler(e, c):\n    return object()\n")))
    assert execution.status == "Failed"
    assert "not JSON serializable" in execution.failure_message


def test_default_session_is_restored_after_success_and_error(run_doc) -> None:
    before = boto3.DEFAULT_SESSION
    run_doc(doc(returns("S", 1)))
    assert boto3.DEFAULT_SESSION is before
    run_doc(doc(script("S", "import boto3\ndef handler(e, c):\n    boto3.client('sts')\n    raise KeyError('x')\n")))
    assert boto3.DEFAULT_SESSION is before


def test_missing_output_of_a_selector_leaves_the_output_absent(run_doc) -> None:
    step = returns("S", {"a": 1}, outputs=[{"Name": "B", "Selector": "$.Payload.b"}])
    execution = run_doc(doc(step, echo("E", {"b": "{{ S.B }}"})))
    assert "B" not in execution.step("S").outputs
    assert execution.failure_message == "Step E failed: {{ S.B }} has no value: step 'S' has no output 'B'"


def test_output_type_mismatch_fails_the_step(run_doc) -> None:
    step = returns("S", {"a": ["x", "y"]}, outputs=[{"Name": "A", "Selector": "$.Payload.a", "Type": "String"}])
    execution = run_doc(doc(step))
    assert execution.status == "Failed"
    assert "output A ($.Payload.a): expected a String, got a list of 2 values" in execution.failure_message


# -- aws:executeAwsApi ---------------------------------------------------------------


def test_api_call_with_pascal_case_api_and_selectors(run_doc) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="bucket-a")
    steps = [
        api(
            "Version", "s3", "PutBucketVersioning", Bucket="{{ Bucket }}", VersioningConfiguration={"Status": "Enabled"}
        ),
        api(
            "Read",
            "s3",
            "GetBucketVersioning",
            Bucket="{{ Bucket }}",
            outputs=[{"Name": "Status", "Selector": "$.Status"}],
        ),
        api(
            "List",
            "s3",
            "ListBuckets",
            outputs=[{"Name": "Names", "Selector": "$.Buckets[*].Name", "Type": "StringList"}],
        ),
    ]
    execution = run_doc(
        doc(*steps, parameters={"Bucket": {"type": "String"}}, outputs=["Read.Status", "List.Names"]), Bucket="bucket-a"
    )
    assert execution.status == "Success", execution.failure_message
    assert s3.get_bucket_versioning(Bucket="bucket-a")["Status"] == "Enabled"
    assert execution.outputs == {"Read.Status": ["Enabled"], "List.Names": ["bucket-a"]}


def test_api_error_fails_the_step_with_the_service_message(run_doc) -> None:
    execution = run_doc(doc(api("Get", "kms", "DescribeKey", KeyId="nope")))
    assert execution.status == "Failed"
    assert "NotFoundException" in execution.step("Get").failure_message
    assert execution.failure_message.startswith("Step Get failed: An error occurred (NotFoundException)")


def test_unknown_api_fails_the_step(run_doc) -> None:
    execution = run_doc(doc(api("Get", "s3", "GetBucketColour", Bucket="x")))
    assert execution.failure_message == "Step Get failed: Api 'GetBucketColour' is not an operation of service 's3'"


def test_invalid_api_parameters_fail_the_step(run_doc) -> None:
    execution = run_doc(doc(api("Get", "s3", "GetBucketVersioning", Bucket="x", Colour="red")))
    assert execution.status == "Failed"
    assert 'Unknown parameter in input: "Colour"' in execution.failure_message


# -- aws:assertAwsResourceProperty / aws:waitForAwsResourceProperty ------------------


def _key() -> str:
    return boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["KeyId"]


def _assert(name: str, action: str, desired: list[str], **fields) -> dict:
    return {
        "name": name,
        "action": f"aws:{action}AwsResourceProperty",
        **fields,
        "inputs": {
            "Service": "kms",
            "Api": "GetKeyRotationStatus",
            "KeyId": "{{ Key }}",
            "PropertySelector": "$.KeyRotationEnabled",
            "DesiredValues": desired,
        },
    }


KEY = {"Key": {"type": "String"}}


@pytest.mark.parametrize("desired", [["False"], ["false"], ["true", "False"]])
def test_assert_matches_booleans_like_ssm(run_doc, desired) -> None:
    execution = run_doc(doc(_assert("Check", "assert", desired), parameters=KEY), Key=_key())
    assert execution.status == "Success", execution.failure_message


def test_assert_failure_names_the_value(run_doc) -> None:
    execution = run_doc(doc(_assert("Check", "assert", ["True"]), parameters=KEY), Key=_key())
    assert execution.status == "Failed"
    assert execution.failure_message == (
        "Step Check failed: $.KeyRotationEnabled is False, not one of the DesiredValues ['True']"
    )
    assert execution.step("Check").to_dict()["FailureDetails"]["FailureType"] == "Verification"


def test_assert_with_wildcard_needs_every_value(run_doc) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId="ami-12c6146b", MinCount=2, MaxCount=2)["Instances"]]
    ec2.stop_instances(InstanceIds=ids[:1])
    step = {
        "name": "Check",
        "action": "aws:assertAwsResourceProperty",
        "inputs": {
            "Service": "ec2",
            "Api": "DescribeInstances",
            "InstanceIds": ids,
            "PropertySelector": "$.Reservations[*].Instances[*].State.Name",
            "DesiredValues": ["running"],
        },
    }
    assert run_doc(doc(step)).status == "Failed"
    ec2.start_instances(InstanceIds=ids[:1])
    assert run_doc(doc(step)).status == "Success"


def test_wait_polls_through_the_clock_until_the_property_changes(aws, registry, runner, clock: FakeClock) -> None:
    key = _key()
    kms = boto3.client("kms", region_name=REGION)
    calls = []

    original = clock.sleep

    def sleep(seconds: float) -> None:
        calls.append(seconds)
        if len(calls) == 3:
            kms.enable_key_rotation(KeyId=key)
        original(seconds)

    clock.sleep = sleep  # type: ignore[method-assign]
    registry.add("Test", doc(_assert("Wait", "waitFor", ["True"], timeoutSeconds=600), parameters=KEY))
    execution = runner.run("Test", {"Key": key}, account_id=ACCOUNT, region=REGION)
    assert execution.status == "Success", execution.failure_message
    assert calls == [5.0, 5.0, 5.0]


def test_wait_times_out_on_the_fake_clock(run_doc, clock: FakeClock) -> None:
    execution = run_doc(doc(_assert("Wait", "waitFor", ["True"], timeoutSeconds=60), parameters=KEY), Key=_key())
    assert execution.status == "TimedOut"
    assert execution.step("Wait").status == "TimedOut"
    assert sum(clock.sleeps) == 60
    assert execution.failure_message.startswith("Step Wait timed out: $.KeyRotationEnabled was still False")


def test_wait_default_timeout_is_an_hour(run_doc, clock: FakeClock, runner) -> None:
    runner.poll_interval = 600
    execution = run_doc(doc(_assert("Wait", "waitFor", ["True"]), parameters=KEY), Key=_key())
    assert execution.status == "TimedOut"
    assert sum(clock.sleeps) == 3600


# -- aws:sleep -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "seconds"), [("PT10M", 600), ("PT1H30M5S", 5405), ("P1DT1S", 86401), ("PT0.5S", 0.5)]
)
def test_sleep_duration_advances_the_fake_clock(run_doc, clock, duration, seconds) -> None:
    execution = run_doc(doc({"name": "Nap", "action": "aws:sleep", "inputs": {"Duration": duration}}))
    assert execution.status == "Success"
    assert clock.sleeps == [seconds]


def test_sleep_until_a_timestamp(run_doc, clock) -> None:
    execution = run_doc(doc({"name": "Nap", "action": "aws:sleep", "inputs": {"Timestamp": "2024-01-01T00:02:00Z"}}))
    assert execution.status == "Success"
    assert clock.sleeps == [120]


@pytest.mark.parametrize("inputs", [{"Duration": "10 minutes"}, {"Timestamp": "tomorrow"}])
def test_sleep_with_a_bad_value_fails(run_doc, inputs) -> None:
    assert run_doc(doc({"name": "Nap", "action": "aws:sleep", "inputs": inputs})).status == "Failed"


def test_sleep_longer_than_its_timeout_times_out(run_doc, clock) -> None:
    step = {"name": "Nap", "action": "aws:sleep", "timeoutSeconds": 30, "inputs": {"Duration": "PT1M"}}
    execution = run_doc(doc(step))
    assert execution.status == "TimedOut"
    assert clock.sleeps == [30]


# -- aws:approve -----------------------------------------------------------------------

APPROVE = {
    "name": "Approve",
    "action": "aws:approve",
    "inputs": {"Approvers": ["arn:aws:iam::111111111111:role/Approver"], "Message": "ok?"},
}


def test_approve_configured_per_run(run_doc) -> None:
    document = doc(APPROVE, returns("After", 1), outputs=["Approve.ApprovalStatus"])
    approved = run_doc(document, _approvals={"Approve": "approve"})
    assert approved.status == "Success"
    assert approved.outputs == {"Approve.ApprovalStatus": ["Approved"]}
    rejected = run_doc(document, _approvals={"*": "reject"})
    assert rejected.status == "Failed"
    assert rejected.executed_steps() == ["Approve"]
    assert "rejected" in rejected.failure_message


def test_approve_without_a_decision_times_out(run_doc) -> None:
    execution = run_doc(doc(APPROVE))
    assert execution.status == "TimedOut"


# -- aws:createTags --------------------------------------------------------------------


def test_create_tags_on_ec2_and_ssm_resources(run_doc) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name="p1", Value="v", Type="String")
    tags = [{"Key": "asr", "Value": "done"}]
    steps = [
        {"name": "TagEc2", "action": "aws:createTags", "inputs": {"ResourceIds": ["{{ Id }}"], "Tags": tags}},
        {
            "name": "TagParam",
            "action": "aws:createTags",
            "inputs": {"ResourceIds": ["p1"], "ResourceType": "Parameter", "Tags": tags},
        },
    ]
    execution = run_doc(doc(*steps, parameters={"Id": {"type": "String"}}), Id=instance)
    assert execution.status == "Success", execution.failure_message
    described = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]
    assert {"Key": "asr", "Value": "done"} in described["Tags"]
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="p1")["TagList"] == tags
