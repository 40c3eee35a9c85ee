"""Config.1 evaluator on moto: the shapes the control page names."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate

ACCOUNT, REGION = "111111111111", "us-east-1"
ACCOUNT_RESOURCE = Resource.account_level(ACCOUNT, REGION)
CONFIG_SLR = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
ALL_SUPPORTED = {"allSupported": True, "includeGlobalResourceTypes": True}


@pytest.fixture
def config():
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="asr-config-delivery")
        yield boto3.client("config", region_name=REGION)


def _recorder(config, *, role: str = CONFIG_SLR, group: dict = ALL_SUPPORTED, start: bool = True) -> None:
    config.put_configuration_recorder(
        ConfigurationRecorder={"name": "default", "roleARN": role, "recordingGroup": group}
    )
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "asr-config-delivery"})
    if start:
        config.start_configuration_recorder(ConfigurationRecorderName="default")


def _verdict(**parameters):
    return evaluate("Config.1", boto3.Session(), ACCOUNT_RESOURCE, parameters)


class _StubbedSession:
    def __init__(self, **clients) -> None:
        self._clients = clients

    def client(self, service: str, region_name: str | None = None):
        return self._clients[service]


def test_no_recorder_fails(config):
    verdict = _verdict()
    assert verdict.status is Status.FAILED
    assert "no AWS Config configuration recorder" in verdict.reason


def test_recording_all_resources_with_the_service_linked_role_passes(config):
    _recorder(config)
    verdict = _verdict()
    assert verdict.status is Status.PASSED, verdict.reason


def test_stopped_recorder_fails(config):
    _recorder(config, start=False)
    verdict = _verdict()
    assert verdict.status is Status.FAILED
    assert "recording is false" in verdict.reason


def test_recorder_limited_to_some_resource_types_fails(config):
    _recorder(
        config, group={"allSupported": False, "includeGlobalResourceTypes": False, "resourceTypes": ["AWS::S3::Bucket"]}
    )
    verdict = _verdict()
    assert verdict.status is Status.FAILED
    assert "recordingGroup.allSupported is false" in verdict.reason


def test_custom_role_fails_unless_the_service_linked_role_check_is_off(config):
    _recorder(config, role=f"arn:aws:iam::{ACCOUNT}:role/my-config-role")
    verdict = _verdict()
    assert verdict.status is Status.FAILED
    assert "not the service-linked role AWSServiceRoleForConfig" in verdict.reason
    assert _verdict(includeConfigServiceLinkedRoleCheck=False).status is Status.PASSED


def test_security_hub_service_linked_recorder_passes():
    # moto does not model service-linked configuration recorders (servicePrincipal), so the two
    # reads are stubbed with the shape AWS Config returns for the recorder Security Hub creates.
    client = boto3.client("config", region_name=REGION)
    recorder = {
        "arn": f"arn:aws:config:{REGION}:{ACCOUNT}:configuration-recorder/AWSConfigurationRecorderForSecurityHub/x",
        "name": "AWSConfigurationRecorderForSecurityHub",
        "servicePrincipal": "securityhub.amazonaws.com",
        "recordingScope": "INTERNAL",
    }
    with Stubber(client) as stub:
        stub.add_response("describe_configuration_recorders", {"ConfigurationRecorders": [recorder]}, {})
        stub.add_response(
            "describe_configuration_recorder_status",
            {"ConfigurationRecordersStatus": [{"name": recorder["name"], "recording": True}]},
            {},
        )
        verdict = evaluate("Config.1", _StubbedSession(config=client), ACCOUNT_RESOURCE)
    assert verdict.status is Status.PASSED
    assert "securityhub.amazonaws.com" in verdict.reason


def test_api_failure_is_an_evaluation_error():
    client = boto3.client("config", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_client_error("describe_configuration_recorders", "AccessDeniedException", "denied")
        with pytest.raises(EvaluationError, match="AccessDeniedException"):
            evaluate("Config.1", _StubbedSession(config=client), ACCOUNT_RESOURCE)
