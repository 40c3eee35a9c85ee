"""The BatchUpdateFindings extension of moto's Security Hub used by these tests."""

from __future__ import annotations

from asr.simulator.findings import make_finding
from tests.playbooks.harness import client


def test_update_sets_note_and_workflow_and_reports_unknown_findings(aws):
    hub = client("securityhub")
    finding = make_finding("S3.2", "arn:aws:s3:::b-1", resource_type="AwsS3Bucket")
    hub.batch_import_findings(Findings=[finding])
    ident = {"Id": finding["Id"], "ProductArn": finding["ProductArn"]}
    missing = {"Id": finding["Id"] + "x", "ProductArn": finding["ProductArn"]}
    out = hub.batch_update_findings(
        FindingIdentifiers=[ident, missing], Note={"Text": "done", "UpdatedBy": "me"}, Workflow={"Status": "RESOLVED"}
    )
    assert out["ProcessedFindings"] == [ident]
    assert out["UnprocessedFindings"][0]["ErrorCode"] == "FindingNotFound"
    (stored,) = hub.get_findings()["Findings"]
    assert stored["Workflow"] == {"Status": "RESOLVED"}
    assert (stored["Note"]["Text"], stored["Note"]["UpdatedBy"]) == ("done", "me")


def test_an_invalid_workflow_status_is_unprocessed(aws):
    hub = client("securityhub")
    finding = make_finding("S3.2", "arn:aws:s3:::b-1", resource_type="AwsS3Bucket")
    hub.batch_import_findings(Findings=[finding])
    out = hub.batch_update_findings(
        FindingIdentifiers=[{"Id": finding["Id"], "ProductArn": finding["ProductArn"]}],
        Workflow={"Status": "DONE"},
    )
    assert out["UnprocessedFindings"][0]["ErrorCode"] == "InvalidInput"
    assert hub.get_findings()["Findings"][0]["Workflow"] == {"Status": "NEW"}


def test_findings_of_other_accounts_are_not_touched(aws):
    finding = make_finding("S3.2", "arn:aws:s3:::b-1", resource_type="AwsS3Bucket")
    client("securityhub").batch_import_findings(Findings=[finding])
    out = client("securityhub", "222222222222").batch_update_findings(
        FindingIdentifiers=[{"Id": finding["Id"], "ProductArn": finding["ProductArn"]}],
        Workflow={"Status": "RESOLVED"},
    )
    assert out["ProcessedFindings"] == []
