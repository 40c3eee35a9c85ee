"""``asr policy validate|show|diff|check|apply`` through asr.cli.main."""

from __future__ import annotations

import io
import json

import boto3
import pytest
import yaml
from moto import mock_aws

from asr import cli
from tests.policy.conftest import finding

NOW = ["--now", "2026-01-01T00:00:00Z"]

POLICY = """\
version: 1
global:
  mode: dry-run
controls:
  S3.2:
    mode: auto
    scope:
      include: {ous: [ou-ab12-sandbox1]}
    exemptions:
      - resource: arn:aws:s3:::public-site
        reason: Public website (SEC-1234)
        owner: web-team
        expires: "2026-06-30T00:00:00Z"
      - tag: Keep=yes
        reason: Old freeze
        owner: ops
        expires: "2025-06-30T00:00:00Z"
  "CIS 1.2.0:2.6": {mode: auto}
"""
OU_MAP = (
    '"111111111111": ou-ab12-child111\nou-ab12-child111: ou-ab12-sandbox1\nou-ab12-sandbox1: r-ab12\n'
    '"222222222222": r-ab12\n'
)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def files(write):
    def make(findings: dict[str, object]) -> dict[str, str]:
        paths = {"policy": write("policy.yaml", POLICY), "ous": write("ous.yaml", OU_MAP)}
        for name, raw in findings.items():
            paths[name] = write(f"{name}.json", json.dumps(raw))
        return paths

    return make


def test_validate(write):
    code, out, err = run("policy", "validate", write("p.yaml", POLICY), *NOW)
    assert code == 0, err
    assert "valid policy version 1, 2 control(s), 2 exemption(s)" in out
    assert 'controls["CIS 1.2.0:2.6"] -> CloudTrail.7' in out
    assert "warning: controls.S3.2.exemptions[1].expires: expired 2025-06-30T00:00:00Z" in out
    assert run("policy", "validate", write("p.yaml", POLICY), "--strict", *NOW)[0] == 1


def test_validate_bad_policy_exit_2_names_path_and_value(write):
    code, out, err = run("policy", "validate", write("p.yaml", "version: 1\nglobal: {mode: fast}\n"))
    assert code == 2 and out == ""
    assert "global.mode" in err and "'fast'" in err
    code, _, err = run("policy", "validate", "/no/such/policy.yaml")
    assert code == 2 and "/no/such/policy.yaml" in err and "cannot be read" in err
    code, _, err = run("policy", "validate", write("p.yaml", "version: 1\n"), "--now", "yesterday")
    assert code == 2 and "--now 'yesterday'" in err


def test_show_normalizes(write):
    code, out, _ = run("policy", "show", write("p.yaml", POLICY), *NOW)
    assert code == 0
    assert '# controls["CIS 1.2.0:2.6"] is control CloudTrail.7' in out
    shown = yaml.safe_load(out)
    assert shown["global"]["mode"] == "dry-run" and shown["global"]["retries"]["attempts"] == 1
    assert set(shown["controls"]) == {"S3.2", "CloudTrail.7"}
    code, out, _ = run("policy", "show", write("p.yaml", POLICY), "--json", *NOW)
    assert json.loads(out)["controls"]["S3.2"]["exemptions"][1]["tag"] == {"key": "Keep", "value": "yes"}


def test_diff_is_semantic_and_by_path(write):
    old = write("old.yaml", POLICY)
    same = write(
        "same.yaml",
        POLICY.replace("version: 1\n", "# comment\nversion: 1\n").replace('"CIS 1.2.0:2.6"', "CloudTrail.7"),
    )
    code, out, _ = run("policy", "diff", old, same)
    assert code == 0 and "no semantic change" in out
    new_text = (
        POLICY.replace("mode: dry-run", "mode: manual")
        .replace("ou-ab12-sandbox1]", "ou-ab12-sandbox1, ou-ab12-sandbox2]")
        .replace('  "CIS 1.2.0:2.6": {mode: auto}\n', "")
    )
    code, out, _ = run("policy", "diff", old, write("new.yaml", new_text))
    assert code == 1
    assert '~ global.mode: "dry-run" -> "manual"' in out
    assert '+ controls.S3.2.scope.include.ous[ou-ab12-sandbox2]: "ou-ab12-sandbox2"' in out
    assert '- controls.CloudTrail.7.mode: "auto"' in out
    code, out, _ = run("policy", "diff", old, write("new.yaml", new_text), "--json")
    ops = {(c["op"], c["path"]) for c in json.loads(out)}
    assert ("changed", "global.mode") in ops and len(ops) == 3


def test_check_explains_the_rule(files):
    paths = files(
        {
            "exempt": finding("S3.2", "arn:aws:s3:::public-site"),
            "in_ou": finding("S3.2", "arn:aws:s3:::data", tags={"Keep": "yes"}),
            "other_ou": finding("S3.2", "arn:aws:s3:::data", account_id="222222222222"),
            "cis": finding(
                "2.6",
                "arn:aws:s3:::trail-bucket",
                standard_name="cis-aws-foundations-benchmark",
                standard_version="1.2.0",
            ),
            "ec2": finding("EC2.19", "arn:aws:ec2:us-east-1:111111111111:security-group/sg-0123456789abcdef0"),
        }
    )
    common = ["--policy", paths["policy"], "--ou-map", paths["ous"], *NOW]
    code, out, err = run("policy", "check", paths["exempt"], *common)
    assert code == 1, err
    assert "Decision:   EXEMPT" in out and "Rule:       controls.S3.2.exemptions[0]" in out
    assert "reason 'Public website (SEC-1234)'; owner web-team; expires 2026-06-30T00:00:00Z" in out
    assert "Without it: WOULD_REMEDIATE" in out

    code, out, _ = run("policy", "check", paths["in_ou"], *common)
    assert code == 0 and "Decision:   PROCEED" in out and "Rule:       controls.S3.2.mode" in out
    assert (
        "Expired:    controls.S3.2.exemptions[1] (tag Keep=yes, owner ops) expired 2025-06-30T00:00:00Z: ignored" in out
    )
    assert "OUs:        ou-ab12-child111 < ou-ab12-sandbox1 < r-ab12" in out and "Tags from:  finding" in out

    code, out, _ = run("policy", "check", paths["other_ou"], *common, "--json")
    (result,) = json.loads(out)
    assert code == 1 and result["decision"]["outcome"] == "OUT_OF_SCOPE"
    assert result["decision"]["rule"] == "controls.S3.2.scope.include.ous"

    code, out, _ = run("policy", "check", paths["cis"], *common)
    assert code == 0 and "Control:    CloudTrail.7 (finding CIS120:2.6)" in out
    code, out, _ = run("policy", "check", paths["ec2"], *common)
    assert code == 1 and "Decision:   DRY_RUN" in out and "Rule:       global.mode" in out


def test_check_initiator_and_bad_input(files, write):
    paths = files({"exempt": finding("S3.2", "arn:aws:s3:::public-site"), "in_ou": finding("S3.2", "arn:aws:s3:::x")})
    manual = write("manual.yaml", "version: 1\nglobal: {mode: manual}\n")
    assert run("policy", "check", paths["in_ou"], "--policy", manual, *NOW)[0] == 1  # auto by default
    code, out, _ = run("policy", "check", paths["in_ou"], "--policy", manual, "--initiator", "manual", *NOW)
    assert code == 0 and "Initiator:  custom-action" in out
    # an OU rule and no --ou-map; a tag rule and no tags: exit 2, saying what to give
    code, _, err = run("policy", "check", paths["in_ou"], "--policy", paths["policy"], *NOW)
    assert code == 2 and "give --ou-map FILE" in err
    tagged = write("tagged.yaml", "version: 1\nglobal: {scope: {include: {tags: [Env=prod]}}}\n")
    code, _, err = run("policy", "check", paths["in_ou"], "--policy", tagged, *NOW)
    assert code == 2 and "give --tags" in err
    code, out, _ = run("policy", "check", paths["in_ou"], "--policy", tagged, "--tags", "Env=prod", *NOW)
    assert code == 0 and "Tags from:  lookup" in out
    code, _, err = run("policy", "check", paths["in_ou"], "--policy", tagged, "--tags", "Env", *NOW)
    assert code == 2 and "--tags 'Env' is not key=value" in err
    code, _, err = run("policy", "check", write("bad.json", "{"), "--policy", tagged, *NOW)
    assert code == 2 and "is not JSON" in err
    code, _, err = run("policy", "check", write("bad.json", '{"Id": 5}'), "--policy", tagged, *NOW)
    assert code == 2 and "finding field Id" in err


def test_apply_to_versioned_bucket(write):
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="asr-policy")
        s3.put_bucket_versioning(Bucket="asr-policy", VersioningConfiguration={"Status": "Enabled"})
        path = write("p.yaml", POLICY)
        code, out, err = run("policy", "apply", path, "--bucket", "asr-policy", "--region", "us-east-1")
        assert code == 0, err
        assert "applied" in out and "s3://asr-policy/asr/policy.yaml: version" in out
        code, out, _ = run("policy", "apply", path, "--bucket", "asr-policy", "--region", "us-east-1")
        assert code == 0 and out.splitlines()[-1].startswith("unchanged:")
        code, _, err = run("policy", "apply", write("bad.yaml", "version: 2\n"), "--bucket", "asr-policy")
        assert code == 2 and "version" in err
        versions = s3.list_object_versions(Bucket="asr-policy")["Versions"]
        # one version of the YAML, and of its compiled form for the orchestrator (asr/policy/store.py)
        assert sorted(v["Key"] for v in versions) == ["asr/policy.yaml", "asr/policy.yaml.json"]
