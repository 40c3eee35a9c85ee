"""ASR-EnableCloudFrontDefaultRootObject: the document through the runner on moto."""

from __future__ import annotations

import boto3
import pytest

from asr.simulator.errors import ParameterValidationError
from tests.remediations.helpers import step_output

DOC = "EnableCloudFrontDefaultRootObject"


def distribution(ref: str, root: str = "") -> tuple[str, str]:
    origin = {"Id": "o1", "DomainName": "assets.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}
    config = {
        "CallerReference": ref,
        "Comment": f"dist {ref}",
        "Enabled": True,
        "DefaultRootObject": root,
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "o1",
            "ViewerProtocolPolicy": "redirect-to-https",
            "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
        },
    }
    dist = boto3.client("cloudfront").create_distribution(DistributionConfig=config)["Distribution"]
    return dist["Id"], dist["ARN"]


def config(distribution_id: str) -> dict:
    return boto3.client("cloudfront").get_distribution_config(Id=distribution_id)["DistributionConfig"]


def test_document_sets_the_root_object_then_changes_nothing(run_runbook):
    target, arn = distribution("t")
    bystander, _ = distribution("b")
    before, other = config(target), config(bystander)

    first = run_runbook(DOC, CloudFrontDistribution=arn)
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    assert config(target) == {**before, "DefaultRootObject": "index.html"}
    assert config(bystander) == other
    assert step_output(first, "SetDefaultRootObject.Output")["DefaultRootObjectAfter"] == "index.html"

    second = run_runbook(DOC, CloudFrontDistribution=arn, DefaultRootObject="home.html")
    assert second["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in step_output(second, "SetDefaultRootObject.Output")["Message"]
    assert config(target)["DefaultRootObject"] == "index.html"


@pytest.mark.parametrize(
    "params",
    [
        {"CloudFrontDistribution": "E2QWRUHAPOMQZL"},
        {
            "CloudFrontDistribution": "arn:aws:cloudfront::111111111111:distribution/E2QWRUHAPOMQZL",
            "DefaultRootObject": "/x",
        },
        {
            "CloudFrontDistribution": "arn:aws:cloudfront::111111111111:distribution/E2QWRUHAPOMQZL",
            "DefaultRootObject": "a b",
        },
    ],
)
def test_document_rejects_malformed_input(run_runbook, params):
    with pytest.raises(ParameterValidationError, match=list(params)[-1]):
        run_runbook(DOC, **params)


def test_document_fails_on_a_missing_distribution(run_runbook):
    bystander, _ = distribution("b")
    other = config(bystander)
    arn = "arn:aws:cloudfront::111111111111:distribution/E2QWRUHAPOMQZL"
    out = run_runbook(DOC, CloudFrontDistribution=arn)
    assert out["AutomationExecutionStatus"] == "Failed"
    assert f"CloudFrontDistribution {arn}: no such distribution" in out["FailureMessage"]
    assert config(bystander) == other
