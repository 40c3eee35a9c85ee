"""The compiled policy the orchestrator reads (``<key>.json``, asr/policy/store.py) and the
standard-library path that reads it (``Policy.from_json``), packed into the orchestrator zip."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import boto3
import pytest
from moto import mock_aws

from asr import solution
from asr.build import PACKAGE_FILES, LambdaPackage, build_lambda_zip
from asr.policy import document as doc
from asr.policy import evaluate, store
from tests.policy.conftest import ACCOUNT, BUCKET_ARN, NOW, facts, policy

POLICY = """\
version: 1
global:
  mode: auto
  scope:
    exclude: {accounts: ["222222222222"], tags: [env=prod]}
  exemptions:
    - resource_pattern: "arn:aws:s3:::legacy-*"
      reason: Legacy (OPS-1)
      owner: ops@example.com
      expires: 2027-01-01T00:00:00Z
controls:
  AFSBP:S3.2:
    mode: dry-run
    allow_manual_override: true
    exemptions:
      - tag: keep
        reason: Kept on purpose
        owner: data@example.com
        expires: 2025-01-01T00:00:00Z
  S3.5: {enabled: false}
"""

CASES = [
    facts(),
    facts(control="S3.5"),
    facts(control="S3.9"),
    facts(account="222222222222"),
    facts(resource="arn:aws:s3:::legacy-1"),
    facts(tags={"env": "prod"}),
    facts(tags={"keep": "x"}),
    facts(control=None),
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("initiator", [evaluate.AUTO, evaluate.MANUAL])
def test_the_compiled_policy_decides_as_the_yaml(case, initiator):
    original = policy(POLICY)
    keys = {cid: rules.key for cid, rules in original.controls.items()}
    compiled = doc.Policy.from_json(
        json.loads(json.dumps(original.to_json())), sha256=original.sha256, revision="v1", keys=keys
    )
    one = evaluate.decide(original, CASES[case], now=NOW, initiator=initiator, tags={})
    two = evaluate.decide(compiled, CASES[case], now=NOW, initiator=initiator, tags={})
    assert (two.outcome, two.exemption, two.expired_exemptions, two.overridden) == (
        one.outcome,
        one.exemption,
        one.expired_exemptions,
        one.overridden,
    )
    assert two.rule == one.rule or one.rule == evaluate.DEFAULTS  # the compiled form writes every default
    assert two.policy_sha256 == original.sha256 and two.policy_revision == "v1"
    assert compiled.to_json() == original.to_json()  # normalizing twice changes nothing


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"version": 2}, "version"),
        ([], "(document)"),
        ({"version": 1, "global": {"mode": 3}}, "global.mode"),
        ({"version": 1, "global": {"modes": "auto"}}, "global.modes"),
        ({"version": 1, "global": {"enabled": "no"}}, "global.enabled"),
        ({"version": 1, "global": {"retries": {"attempts": 0}}}, "global.retries.attempts"),
        (
            {"version": 1, "global": {"scope": {"include": {"accounts": "111111111111"}}}},
            "global.scope.include.accounts",
        ),
        ({"version": 1, "global": {"scope": {"exclude": {"tags": [{"key": 1}]}}}}, "global.scope.exclude.tags[0]"),
        ({"version": 1, "global": {"scope": {"exclude": {"accounts": ["1"]}}}}, "global.scope.exclude.accounts[0]"),
        (
            {"version": 1, "controls": {"S3.2": {"exemptions": [{"resource": 5}]}}},
            "controls.S3.2.exemptions[0].resource",
        ),
        ({"version": 1, "global": {"exemptions": [{"resource": "x"}]}}, "global"),
        ({"version": 1, "controls": {"S3.2": "dry-run"}}, "controls.S3.2"),
        (
            {
                "version": 1,
                "controls": {
                    "S3.2": {"exemptions": [{"resource": "x", "reason": "r", "owner": "o", "expires": "soon"}]}
                },
            },
            "controls.S3.2.exemptions[0].expires",
        ),
    ],
)
def test_a_malformed_compiled_policy_is_an_error_naming_the_path(document, path):
    with pytest.raises(doc.PolicyError) as err:
        doc.Policy.from_json(document, sha256="x", source="s3://b/k.json")
    assert err.value.path == path and "s3://b/k.json" in str(err.value)


@mock_aws
def test_apply_writes_the_compiled_form_next_to_the_yaml():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="policies")
    s3.put_bucket_versioning(Bucket="policies", VersioningConfiguration={"Status": "Enabled"})
    target = store.PolicyStore(s3, "policies", "asr/policy.yaml")
    applied, original = target.apply(POLICY.encode())
    body = json.loads(s3.get_object(Bucket="policies", Key="asr/policy.yaml.json")["Body"].read())
    assert body["format"] == 1 and body["version"] == 1
    assert body["sha256"] == applied.sha256 == original.sha256 and body["revision"] == applied.version_id
    assert body["policy"] == original.to_json() and body["keys"] == {"S3.2": "AFSBP:S3.2", "S3.5": "S3.5"}
    assert body["aliases"]["AFSBP:1.0.0:S3.2"] == "S3.2" and body["aliases"]["CIS:1.2.0:1.3"] == "IAM.8"
    # the same bytes again: no new YAML version, the compiled object is left as it is
    again, _ = target.apply(POLICY.encode())
    assert not again.changed
    versions = s3.list_object_versions(Bucket="policies", Prefix="asr/policy.yaml.json")["Versions"]
    assert len(versions) == 1
    # the history of changes lists the YAML only
    assert [v.version_id for v in target.versions()] == [applied.version_id]


def test_the_orchestrator_zip_packs_the_policy_reader_and_runs_it_without_yaml_or_jsonschema(tmp_path):
    """The zip as the build writes it: asr.policy's stdlib path inside; imported and run with PyYAML and
    jsonschema made unimportable (they are not in the Lambda runtime)."""
    zip_path = build_lambda_zip(LambdaPackage("orchestrator"), tmp_path)
    names = zipfile.ZipFile(zip_path).namelist()
    assert set(PACKAGE_FILES["orchestrator"]) <= set(names)
    assert "asr/policy/schema.json" not in names and "asr/policy/cli.py" not in names
    original = policy(POLICY)
    compiled = json.dumps(original.to_json())
    script = f"""
import importlib.abc, json, sys, datetime as dt
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("yaml", "jsonschema"):
            raise ImportError("not in the Lambda runtime: " + name)
sys.meta_path.insert(0, Block())
sys.path.insert(0, {str(zip_path)!r})
import lambdas.orchestrator.enforce, lambdas.orchestrator.resolve
from asr.policy import document as doc, evaluate
p = doc.Policy.from_json(json.loads({compiled!r}), sha256="abc")
f = evaluate.FindingFacts(account={ACCOUNT!r}, region="us-east-1", resource={BUCKET_ARN!r}, control="S3.2", tags={{}})
d = evaluate.decide(p, f, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
outside = sorted(n for n, m in sys.modules.items() if n.split(".")[0] in ("asr", "lambdas")
                 and not (getattr(m, "__file__", "") or "").startswith({str(zip_path)!r}))
assert not outside, outside
assert "yaml" not in sys.modules and "jsonschema" not in sys.modules
print(d.outcome)
"""
    done = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == evaluate.DRY_RUN


def test_outcome_names_are_the_evaluators():
    from lambdas.orchestrator import outcomes

    stopping = set(evaluate.OUTCOMES) - {evaluate.PROCEED, evaluate.RETRY_NOT_ALLOWED}
    assert set(outcomes.POLICY) == stopping and set(outcomes.POLICY) <= set(outcomes.ALL)
    assert solution.POLICY_COMPILED_SUFFIX == store.COMPILED_SUFFIX
