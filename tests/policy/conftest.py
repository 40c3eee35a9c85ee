"""Helpers of the policy tests: a policy from text, facts of a finding, a fixed clock."""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import Any

import pytest

from asr.policy import document as doc
from asr.policy.evaluate import FindingFacts

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ACCOUNT = "111111111111"
OTHER = "222222222222"
BUCKET_ARN = "arn:aws:s3:::my-bucket"


def policy(text: str, **kw: Any) -> doc.Policy:
    return doc.loads(textwrap.dedent(text), **kw)


def facts(**kw: Any) -> FindingFacts:
    values: dict[str, Any] = {
        "account": ACCOUNT,
        "region": "us-east-1",
        "resource": BUCKET_ARN,
        "control": "S3.2",
        "finding_id": "finding-1",
    }
    values.update(kw)
    return FindingFacts(**values)


def finding(control: str = "S3.2", resource: str = BUCKET_ARN, *, tags: dict[str, str] | None = None, **kw: Any):
    """A real ASFF finding (asr.simulator.findings), optionally with Resources[0].Tags."""
    from asr.simulator.findings import make_finding

    kw.setdefault("resource_type", "AwsS3Bucket")
    kw.setdefault("finding_uuid", "00000000-0000-4000-8000-000000000001")
    kw.setdefault("timestamp", NOW)
    raw = make_finding(control, resource, **kw)
    if tags is not None:
        raw["Resources"][0]["Tags"] = tags
    return raw


@pytest.fixture
def write(tmp_path):
    def put(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return str(path)

    return put
