"""ASR-SetCloudFrontOriginDomain: the document through the runner.

Distributions and buckets run on moto. moto 5.2.5's CloudFront drops S3OriginConfig and
OriginAccessControlId from GetDistributionConfig, so the exact UpdateDistribution request
for an S3 origin with an origin access control is proven with a botocore Stubber on the real
CloudFront shapes, patched into the script through boto3.client (S3 stays on moto).
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.set_cloudfront_origin_domain import (
    SAFE_DOMAIN,
    RemediationError,
    bucket_exists,
    bucket_of,
)
from tests.remediations.helpers import step_output
from tests.remediations.helpers.stubs import stubbed_boto3_client

DOC = "SetCloudFrontOriginDomain"
DIST = "E2QWRUHAPOMQZL"


@pytest.mark.parametrize(
    ("domain", "bucket"),
    [
        ("gone.s3.amazonaws.com", "gone"),
        ("my.dotted.bucket.s3.eu-west-1.amazonaws.com", "my.dotted.bucket"),
        ("gone.s3-us-west-2.amazonaws.com", "gone"),
        ("gone.s3.dualstack.us-gov-west-1.amazonaws.com", "gone"),
        ("gone.s3-website-us-east-1.amazonaws.com", "gone"),
        ("gone.s3-website.eu-central-1.amazonaws.com", "gone"),
        ("gone.s3.cn-north-1.amazonaws.com.cn", "gone"),
        ("Gone.S3.AmazonAWS.com", "gone"),
        ("www.example.com", ""),
        ("ap-111111111111.s3-accesspoint.us-east-1.amazonaws.com", ""),
        ("abc.mediastore.us-east-1.amazonaws.com", ""),
        (SAFE_DOMAIN, ""),
    ],
)
def test_only_s3_bucket_endpoints_name_a_bucket(domain, bucket):
    assert bucket_of({"DomainName": domain}) == bucket


@pytest.mark.parametrize(("code", "status", "exists"), [("404", 404, False), ("403", 403, True), ("301", 301, True)])
def test_head_bucket_answers(code, status, exists):
    s3 = boto3.client("s3", region_name="us-east-1")
    with Stubber(s3) as stub:
        stub.add_client_error("head_bucket", code, "", status, expected_params={"Bucket": "b1"})
        assert bucket_exists(s3, DIST, "b1") is exists


def test_an_unclear_head_bucket_answer_stops_the_run():
    s3 = boto3.client("s3", region_name="us-east-1")
    with Stubber(s3) as stub:
        stub.add_client_error("head_bucket", "500", "", 500)
        with pytest.raises(RemediationError, match=f"DistributionId {DIST}: cannot tell whether origin bucket b1"):
            bucket_exists(s3, DIST, "b1")


# --- on moto ----------------------------------------------------------------------------


def origin(origin_id: str, domain: str) -> dict:
    if ".s3" in domain:
        return {
            "Id": origin_id,
            "DomainName": domain,
            "OriginPath": "/site",
            "S3OriginConfig": {"OriginAccessIdentity": ""},
        }
    custom = {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}
    return {"Id": origin_id, "DomainName": domain, "CustomOriginConfig": custom}


def distribution(ref: str, *origins: dict) -> str:
    config = {
        "CallerReference": ref,
        "Comment": f"dist {ref}",
        "Enabled": True,
        "DefaultRootObject": "index.html",
        "Origins": {"Quantity": len(origins), "Items": list(origins)},
        "DefaultCacheBehavior": {
            "TargetOriginId": origins[0]["Id"],
            "ViewerProtocolPolicy": "redirect-to-https",
            "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
        },
    }
    return boto3.client("cloudfront").create_distribution(DistributionConfig=config)["Distribution"]["Id"]


def config(distribution_id: str) -> dict:
    return boto3.client("cloudfront").get_distribution_config(Id=distribution_id)["DistributionConfig"]


def test_document_rewrites_only_origins_of_missing_buckets_then_changes_nothing(run_runbook):
    boto3.client("s3").create_bucket(Bucket="live-assets")
    target = distribution(
        "t",
        origin("gone", "deleted-assets.s3.amazonaws.com"),
        origin("live", "live-assets.s3.us-east-1.amazonaws.com"),
        origin("api", "api.example.com"),
    )
    bystander = distribution("b", origin("gone", "deleted-assets.s3.amazonaws.com"))
    before, other = config(target), config(bystander)

    first = run_runbook(DOC, DistributionId=target)
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    after = config(target)
    gone, live, api = after["Origins"]["Items"]
    assert gone["DomainName"] == SAFE_DOMAIN and gone["Id"] == "gone"
    assert gone["OriginPath"] == "/site"
    assert gone["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert [live, api] == before["Origins"]["Items"][1:]
    assert {**after, "Origins": None} == {**before, "Origins": None}  # enabled, behaviors, root object... kept
    assert after["Enabled"] is True
    assert config(bystander) == other
    out = step_output(first, "SetOriginDomain.Output")
    assert out["RewrittenOrigins"] == ["gone (deleted-assets.s3.amazonaws.com)"]
    assert out["KeptS3Origins"] == ["live (live-assets.s3.us-east-1.amazonaws.com)"]

    second = run_runbook(DOC, DistributionId=target)
    assert second["AutomationExecutionStatus"] == "Success", second.get("FailureMessage")
    assert step_output(second, "SetOriginDomain.Output")["RewrittenOrigins"] == []
    assert "nothing changed" in step_output(second, "SetOriginDomain.Output")["Message"]
    assert config(target) == after


def test_document_changes_nothing_when_every_bucket_exists(run_runbook):
    boto3.client("s3").create_bucket(Bucket="live-assets")
    target = distribution("t", origin("live", "live-assets.s3.amazonaws.com"), origin("api", "api.example.com"))
    before = config(target)
    out = run_runbook(DOC, DistributionId=target)
    assert out["AutomationExecutionStatus"] == "Success", out.get("FailureMessage")
    assert step_output(out, "SetOriginDomain.Output")["RewrittenOrigins"] == []
    assert config(target) == before


@pytest.mark.parametrize(
    "bad",
    [
        "arn:aws:cloudfront::111111111111:distribution/E2QWRUHAPOMQZL",
        "e2qwruhapomqzl",
        "E2QWRUHAPOMQZL ",
        "",
        "E2Q",
        "xE2QWRUHAPOMQZL/../E",
    ],
)
def test_document_rejects_a_malformed_distribution_id(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="DistributionId"):
        run_runbook(DOC, DistributionId=bad)


def test_document_fails_on_a_missing_distribution(run_runbook):
    bystander = distribution("b", origin("gone", "deleted-assets.s3.amazonaws.com"))
    other = config(bystander)
    out = run_runbook(DOC, DistributionId="E2QWRUHAPOMQZL")
    assert out["AutomationExecutionStatus"] == "Failed"
    assert "DistributionId E2QWRUHAPOMQZL: no such CloudFront distribution" in out["FailureMessage"]
    assert config(bystander) == other


# --- the exact request on the real CloudFront shapes (Stubber) --------------------------


@pytest.fixture
def cloudfront(aws, monkeypatch):
    with stubbed_boto3_client(monkeypatch, "cloudfront") as stub:
        yield stub


def real_config(gone_domain: str) -> dict:
    """A distribution as CloudFront returns it: S3 origins with an OAC, an origin group, a second behavior."""

    def s3_origin(origin_id: str, domain: str) -> dict:
        return {
            "Id": origin_id,
            "DomainName": domain,
            "OriginPath": "",
            "CustomHeaders": {"Quantity": 1, "Items": [{"HeaderName": "x-team", "HeaderValue": "web"}]},
            "S3OriginConfig": {"OriginAccessIdentity": ""},
            "ConnectionAttempts": 3,
            "ConnectionTimeout": 10,
            "OriginShield": {"Enabled": False},
            "OriginAccessControlId": "E1OACEXAMPLE01",
        }

    behavior = {
        "TargetOriginId": "group",
        "ViewerProtocolPolicy": "redirect-to-https",
        "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
    }
    return {
        "CallerReference": "ref",
        "Comment": "site",
        "Enabled": True,
        "Origins": {
            "Quantity": 2,
            "Items": [s3_origin("gone", gone_domain), s3_origin("live", "live-assets.s3.amazonaws.com")],
        },
        "OriginGroups": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "group",
                    "FailoverCriteria": {"StatusCodes": {"Quantity": 1, "Items": [500]}},
                    "Members": {"Quantity": 2, "Items": [{"OriginId": "gone"}, {"OriginId": "live"}]},
                }
            ],
        },
        "DefaultCacheBehavior": behavior,
        "CacheBehaviors": {"Quantity": 1, "Items": [{**behavior, "PathPattern": "/img/*", "TargetOriginId": "live"}]},
        "WebACLId": "arn:aws:wafv2:us-east-1:111111111111:global/webacl/site/abc",
    }


def test_document_sends_back_the_whole_config_with_only_the_dead_origin_rewritten(run_runbook, cloudfront):
    boto3.client("s3").create_bucket(Bucket="live-assets")
    before = real_config("deleted-assets.s3.amazonaws.com")
    gone, live = before["Origins"]["Items"]
    dead = {k: v for k, v in gone.items() if k != "S3OriginConfig"}
    fixed = {
        **dead,
        "DomainName": SAFE_DOMAIN,
        "OriginAccessControlId": "",
        "CustomOriginConfig": {
            "HTTPPort": 80,
            "HTTPSPort": 443,
            "OriginProtocolPolicy": "https-only",
            "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
            "OriginReadTimeout": 30,
            "OriginKeepaliveTimeout": 5,
        },
    }
    after = {**before, "Origins": {"Quantity": 2, "Items": [fixed, live]}}
    cloudfront.add_response("get_distribution_config", {"DistributionConfig": before, "ETag": "ETAG1"}, {"Id": DIST})
    cloudfront.add_response(
        "update_distribution", {"ETag": "ETAG2"}, {"Id": DIST, "IfMatch": "ETAG1", "DistributionConfig": after}
    )
    cloudfront.add_response("get_distribution_config", {"DistributionConfig": after, "ETag": "ETAG2"}, {"Id": DIST})
    out = run_runbook(DOC, DistributionId=DIST)
    assert out["AutomationExecutionStatus"] == "Success", out.get("FailureMessage")
    assert step_output(out, "SetOriginDomain.Output")["RewrittenOrigins"] == ["gone (deleted-assets.s3.amazonaws.com)"]


def test_document_fails_when_the_update_does_not_stick(run_runbook, cloudfront):
    boto3.client("s3").create_bucket(Bucket="live-assets")
    before = real_config("deleted-assets.s3.amazonaws.com")
    cloudfront.add_response("get_distribution_config", {"DistributionConfig": before, "ETag": "ETAG1"}, {"Id": DIST})
    cloudfront.add_response("update_distribution", {"ETag": "ETAG2"})
    cloudfront.add_response("get_distribution_config", {"DistributionConfig": before, "ETag": "ETAG2"}, {"Id": DIST})
    out = run_runbook(DOC, DistributionId=DIST)
    assert out["AutomationExecutionStatus"] == "Failed"
    assert f"DistributionId {DIST}: origins ['gone'] still point at missing buckets" in out["FailureMessage"]


def test_document_stops_on_a_concurrent_change(run_runbook, cloudfront):
    before = real_config("deleted-assets.s3.amazonaws.com")
    cloudfront.add_response("get_distribution_config", {"DistributionConfig": before, "ETag": "ETAG1"}, {"Id": DIST})
    cloudfront.add_client_error("update_distribution", "PreconditionFailed", "The If-Match version is not valid", 412)
    out = run_runbook(DOC, DistributionId=DIST)
    assert out["AutomationExecutionStatus"] == "Failed"
    assert f"DistributionId {DIST}: its configuration changed while this ran" in out["FailureMessage"]
