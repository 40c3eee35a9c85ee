"""asr/simulator/emulation/athena.py through boto3 under moto: UpdateWorkGroup and GetWorkGroup as the
Athena API reference describes them (see the module docstring for the pages)."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from asr.simulator import emulation
from tests.conftest import REGION, multi_account_moto

SETTINGS = {
    "ResultConfiguration": {
        "OutputLocation": "s3://results/queries/",
        "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
        "ExpectedBucketOwner": "111111111111",
    },
    "EnforceWorkGroupConfiguration": True,
    "PublishCloudWatchMetricsEnabled": False,
    "BytesScannedCutoffPerQuery": 10_000_000_000,
    "RequesterPaysEnabled": True,
}


@pytest.fixture
def athena(monkeypatch):
    with multi_account_moto(monkeypatch):
        client = boto3.client("athena", region_name=REGION)
        client.create_work_group(Name="analysts", Description="team", Configuration=SETTINGS)
        client.create_work_group(Name="other", Configuration=SETTINGS)
        yield client


def config(athena, name="analysts") -> dict:
    return athena.get_work_group(WorkGroup=name)["WorkGroup"]["Configuration"]


def test_the_extensions_are_installed():
    names = {(e.target.__name__, e.name) for e in emulation.install()}
    assert {
        ("AthenaBackend", "update_work_group"),
        ("AthenaResponse", "update_work_group"),
        ("AthenaResponse", "get_work_group"),
    } <= names


def test_update_sets_only_the_settings_given(athena):
    before = config(athena)
    assert (
        athena.update_work_group(WorkGroup="analysts", ConfigurationUpdates={"PublishCloudWatchMetricsEnabled": True})[
            "ResponseMetadata"
        ]["HTTPStatusCode"]
        == 200
    )
    after = config(athena)
    assert after["PublishCloudWatchMetricsEnabled"] is True
    assert {k: v for k, v in after.items() if k != "PublishCloudWatchMetricsEnabled"} == {
        k: v for k, v in before.items() if k != "PublishCloudWatchMetricsEnabled"
    }
    assert config(athena, "other")["PublishCloudWatchMetricsEnabled"] is False
    group = athena.get_work_group(WorkGroup="analysts")["WorkGroup"]
    assert (group["Description"], group["State"]) == ("team", "ENABLED")


def test_remove_flags_remove_one_setting_each(athena):
    athena.update_work_group(
        WorkGroup="analysts",
        ConfigurationUpdates={
            "RemoveBytesScannedCutoffPerQuery": True,
            "ResultConfigurationUpdates": {"RemoveEncryptionConfiguration": True, "OutputLocation": "s3://new/"},
        },
    )
    after = config(athena)
    assert "BytesScannedCutoffPerQuery" not in after
    assert after["ResultConfiguration"] == {"OutputLocation": "s3://new/", "ExpectedBucketOwner": "111111111111"}


def test_description_and_state(athena):
    athena.update_work_group(WorkGroup="analysts", Description="renamed team", State="DISABLED")
    group = athena.get_work_group(WorkGroup="analysts")["WorkGroup"]
    assert (group["Description"], group["State"]) == ("renamed team", "DISABLED")
    assert athena.get_work_group(WorkGroup="other")["WorkGroup"]["State"] == "ENABLED"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ConfigurationUpdates": {"BytesScannedCutoffPerQuery": 10_000_000 - 1}}, "BytesScannedCutoffPerQuery"),
        ({"State": "PAUSED"}, "State 'PAUSED'"),
        (
            {
                "ConfigurationUpdates": {
                    "BytesScannedCutoffPerQuery": 20_000_000,
                    "RemoveBytesScannedCutoffPerQuery": True,
                }
            },
            "RemoveBytesScannedCutoffPerQuery",
        ),
        (
            {
                "ConfigurationUpdates": {
                    "ResultConfigurationUpdates": {"OutputLocation": "s3://x/", "RemoveOutputLocation": True}
                }
            },
            "RemoveOutputLocation",
        ),
        ({"Description": "d" * 1025, "ConfigurationUpdates": {"PublishCloudWatchMetricsEnabled": True}}, "1024"),
    ],
)
def test_invalid_input_is_refused_and_changes_nothing(athena, kwargs, message):
    """The server's own checks (botocore's client-side validation is off: the minimum would stop it first)."""
    unchecked = boto3.client("athena", region_name=REGION, config=Config(parameter_validation=False))
    before = athena.get_work_group(WorkGroup="analysts")["WorkGroup"]
    with pytest.raises(ClientError) as caught:
        unchecked.update_work_group(WorkGroup="analysts", **kwargs)
    assert caught.value.response["Error"]["Code"] == "InvalidRequestException"
    assert message in caught.value.response["Error"]["Message"]
    after = athena.get_work_group(WorkGroup="analysts")["WorkGroup"]
    assert {k: after[k] for k in ("Configuration", "Description", "State")} == {
        k: before[k] for k in ("Configuration", "Description", "State")
    }


def test_a_missing_workgroup_is_an_invalid_request(athena):
    for call in (
        lambda: athena.update_work_group(WorkGroup="ghost", State="ENABLED"),
        lambda: athena.get_work_group(WorkGroup="ghost"),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert caught.value.response["Error"]["Code"] == "InvalidRequestException"
        assert "ghost" in caught.value.response["Error"]["Message"]


def test_the_primary_workgroup_can_be_updated(athena):
    athena.update_work_group(WorkGroup="primary", ConfigurationUpdates={"PublishCloudWatchMetricsEnabled": True})
    assert config(athena, "primary")["PublishCloudWatchMetricsEnabled"] is True
