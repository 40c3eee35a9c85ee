"""CloudFront.1 and CloudFront.12 evaluators on moto (CloudFront.12's origins stubbed, see below)."""

from __future__ import annotations

import functools
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate

ACCOUNT, REGION = "111111111111", "us-east-1"


@functools.cache
def _session() -> boto3.Session:
    return boto3.Session(region_name=REGION)


class _Session(boto3.Session):
    """A session that hands out a given (stubbed) client for some services."""

    def __init__(self, clients: dict[str, Any]) -> None:
        super().__init__(region_name=REGION)
        self._clients = clients

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._clients.get(service_name) or super().client(service_name, *args, **kwargs)


def _s3_origin(origin_id: str, domain: str) -> dict[str, Any]:
    return {"Id": origin_id, "DomainName": domain, "S3OriginConfig": {"OriginAccessIdentity": ""}}


def _custom_origin(origin_id: str, domain: str) -> dict[str, Any]:
    return {
        "Id": origin_id,
        "DomainName": domain,
        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"},
    }


def _config(*origins: dict[str, Any], root: str | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "CallerReference": "ref",
        "Origins": {"Quantity": len(origins), "Items": list(origins)},
        "DefaultCacheBehavior": {
            "TargetOriginId": origins[0]["Id"],
            "ViewerProtocolPolicy": "redirect-to-https",
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "MinTTL": 0,
        },
        "Comment": "",
        "Enabled": True,
    }
    if root is not None:
        config["DefaultRootObject"] = root
    return config


def _resource(distribution_id: str) -> Resource:
    return Resource.of_arn(f"arn:aws:cloudfront::{ACCOUNT}:distribution/{distribution_id}", "AwsCloudFrontDistribution")


@pytest.fixture
def cloudfront():
    with mock_aws():
        yield boto3.client("cloudfront", region_name=REGION)


# ---------------------------------------------------------------------------------- CloudFront.1


def test_cloudfront_1_default_root_object(cloudfront):
    origin = _s3_origin("site", "site-bucket.s3.amazonaws.com")
    bare = cloudfront.create_distribution(DistributionConfig=_config(origin))["Distribution"]["Id"]
    verdict = evaluate("CloudFront.1", _session(), _resource(bare))
    assert verdict.status is Status.FAILED
    assert verdict.reason == "DefaultRootObject is empty"
    rooted = cloudfront.create_distribution(
        DistributionConfig={**_config(origin, root="index.html"), "CallerReference": "2"}
    )
    verdict = evaluate("CloudFront.1", _session(), _resource(rooted["Distribution"]["Id"]))
    assert verdict.status is Status.PASSED
    assert "'index.html'" in verdict.reason


def test_cloudfront_1_missing_distribution_is_an_error(cloudfront):
    with pytest.raises(EvaluationError, match="E000000000000"):
        evaluate("CloudFront.1", _session(), _resource("E000000000000"))


# --------------------------------------------------------------------------------- CloudFront.12


def _origins_verdict(*origins: dict[str, Any]):
    # moto's GetDistributionConfig leaves S3OriginConfig out of its origins, so that call is stubbed;
    # whether the bucket exists is still asked of moto's S3.
    client = boto3.client("cloudfront", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response("get_distribution_config", {"DistributionConfig": _config(*origins), "ETag": "E1"})
    with stubber:
        return evaluate("CloudFront.12", _Session({"cloudfront": client}), _resource("EDFDVBD6EXAMPLE"))


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket="present-bucket")
        yield client


def test_cloudfront_12_origin_bucket_that_exists_passes(s3):
    verdict = _origins_verdict(_s3_origin("a", "present-bucket.s3.amazonaws.com"))
    assert verdict.status is Status.PASSED
    assert "present-bucket" in verdict.reason


@pytest.mark.parametrize(
    "domain",
    [
        "deleted-bucket.s3.amazonaws.com",
        "deleted-bucket.s3.eu-west-1.amazonaws.com",
        "deleted-bucket.s3-eu-west-1.amazonaws.com",
        "deleted-bucket.s3.dualstack.eu-west-1.amazonaws.com",
    ],
    ids=["global", "regional", "dash-regional", "dualstack"],
)
def test_cloudfront_12_origin_bucket_that_does_not_exist_fails(s3, domain):
    verdict = _origins_verdict(_s3_origin("gone", domain))
    assert verdict.status is Status.FAILED
    assert "'deleted-bucket'" in verdict.reason


def test_cloudfront_12_every_s3_origin_counts(s3):
    verdict = _origins_verdict(
        _s3_origin("live", "present-bucket.s3.amazonaws.com"),
        _s3_origin("stale", "deleted-bucket.s3.amazonaws.com"),
    )
    assert verdict.status is Status.FAILED
    assert "'stale'" in verdict.reason


def test_cloudfront_12_website_and_custom_origins_are_not_applicable(s3):
    verdict = _origins_verdict(
        _custom_origin("site", "deleted-bucket.s3-website-us-east-1.amazonaws.com"),
        _custom_origin("app", "app.example.com"),
    )
    assert verdict.status is Status.NOT_APPLICABLE
