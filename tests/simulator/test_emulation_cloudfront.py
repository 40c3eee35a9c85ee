"""asr/simulator/emulation/cloudfront.py through boto3 under moto: an origin's S3OriginConfig and
OriginAccessControlId survive CreateDistribution and UpdateDistribution, as GetDistributionConfig shows."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from asr.simulator import emulation


@pytest.fixture
def cloudfront():
    emulation.install()
    with mock_aws():
        yield boto3.client("cloudfront", region_name="us-east-1")


def _config(origins: list[dict]) -> dict:
    return {
        "CallerReference": "ref",
        "Comment": "",
        "Enabled": True,
        "Origins": {"Quantity": len(origins), "Items": origins},
        "DefaultCacheBehavior": {
            "TargetOriginId": origins[0]["Id"],
            "ViewerProtocolPolicy": "allow-all",
            "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
        },
    }


S3 = {"Id": "s3", "DomainName": "assets.s3.us-east-1.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}
CUSTOM = {
    "Id": "app",
    "DomainName": "app.example.com",
    "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
}


def test_an_s3_origin_keeps_its_s3_origin_config_and_access_control(cloudfront):
    oac = cloudfront.create_origin_access_control(
        OriginAccessControlConfig={
            "Name": "oac",
            "SigningProtocol": "sigv4",
            "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3",
        }
    )["OriginAccessControl"]["Id"]
    dist = cloudfront.create_distribution(DistributionConfig=_config([{**S3, "OriginAccessControlId": oac}, CUSTOM]))
    s3, custom = cloudfront.get_distribution_config(Id=dist["Distribution"]["Id"])["DistributionConfig"]["Origins"][
        "Items"
    ]

    assert s3["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert s3["OriginAccessControlId"] == oac
    assert "CustomOriginConfig" not in s3
    assert "S3OriginConfig" not in custom and custom["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"


def test_an_update_that_makes_the_s3_origin_custom_drops_its_s3_origin_config(cloudfront):
    dist_id = cloudfront.create_distribution(DistributionConfig=_config([S3]))["Distribution"]["Id"]
    found = cloudfront.get_distribution_config(Id=dist_id)
    config = found["DistributionConfig"]
    origin = {k: v for k, v in config["Origins"]["Items"][0].items() if k != "S3OriginConfig"}
    origin.update(DomainName="elsewhere.example", CustomOriginConfig=CUSTOM["CustomOriginConfig"])
    config["Origins"]["Items"] = [origin]
    cloudfront.update_distribution(Id=dist_id, IfMatch=found["ETag"], DistributionConfig=config)

    [after] = cloudfront.get_distribution_config(Id=dist_id)["DistributionConfig"]["Origins"]["Items"]
    assert "S3OriginConfig" not in after
    assert after["DomainName"] == "elsewhere.example"


@pytest.mark.parametrize(
    ("origin", "named"),
    [
        ({**S3, "ConnectionAttempts": 4}, "ConnectionAttempts"),
        ({**S3, "ConnectionTimeout": 11}, "ConnectionTimeout"),
    ],
    ids=["connection-attempts", "connection-timeout"],
)
def test_an_invalid_origin_is_refused_naming_the_field(cloudfront, origin, named):
    with pytest.raises(ClientError) as err:
        cloudfront.create_distribution(DistributionConfig=_config([origin]))
    assert err.value.response["Error"]["Code"] == "InvalidArgument"
    assert named in err.value.response["Error"]["Message"]
    assert cloudfront.list_distributions()["DistributionList"].get("Items", []) == []
