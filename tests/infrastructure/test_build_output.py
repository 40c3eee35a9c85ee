"""A build a newcomer can trust: no warning left unacknowledged, acknowledgments that hide nothing
else, a default bucket that is no one's, ``cdk.json`` that runs the app in the project's virtualenv,
and no declared dependency that nothing imports."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from asr import solution, validation
from asr.build import SYNTH_DIR, VALIDATION_REPORT, unacknowledged
from asr.cdk_common import Distribution

ROOT = Path(__file__).resolve().parents[2]


def _report(built) -> dict:
    return json.loads((built.out / SYNTH_DIR / VALIDATION_REPORT).read_text(encoding="utf-8"))


def test_the_build_leaves_no_validation_finding_unacknowledged(built):
    """What the build would print (template validation, cdk-nag): nothing."""
    assert (built.out / SYNTH_DIR / VALIDATION_REPORT).is_file()  # the report the CDK points to survives the build
    assert built.validation_warnings == []


def test_an_unacknowledged_finding_is_reported(tmp_path):
    report = {
        "pluginReports": [
            {
                "pluginName": "CloudFormation Validate",
                "violations": [
                    {
                        "ruleName": "W2001",
                        "description": "Parameters/X: Parameter 'X' is not referenced anywhere in the template",
                        "violatingConstructs": [{"constructPath": "SomeStack"}],
                    }
                ],
            }
        ]
    }
    path = tmp_path / VALIDATION_REPORT
    path.write_text(json.dumps(report))
    assert unacknowledged(path) == [
        "CloudFormation Validate W2001 SomeStack: "
        "Parameters/X: Parameter 'X' is not referenced anywhere in the template"
    ]
    assert unacknowledged(tmp_path / "missing.json") == []


def test_each_acknowledged_template_warning_covers_only_the_parameters_named_for_it(built):
    """asr/validation.py acknowledges per stack and rule: what it covers is exactly the parameters it names."""
    (plugin,) = [p for p in _report(built)["pluginReports"] if p["pluginName"] == "CloudFormation Validate"]
    mine = {
        validation.UNUSED_PARAMETER: set(validation.KEPT_UNUSED_PARAMETERS.values()),
        validation.PASSWORD_LIKE_PARAMETER: {validation.SECRET_LOOKING_REASON},
    }
    seen: dict[str, set[str]] = {rule: set() for rule in mine}
    for finding in plugin.get("suppressedViolations", []):
        assert finding["reason"].strip(), finding  # every acknowledgment (here or in a stack) has its reason
        if finding["reason"] not in mine.get(finding["ruleName"], set()):
            continue  # acknowledged by the stack it concerns
        seen[finding["ruleName"]].add(re.match(r"Parameters/([A-Za-z0-9]+): ", finding["description"]).group(1))
    assert seen[validation.UNUSED_PARAMETER] == set(validation.KEPT_UNUSED_PARAMETERS)
    assert seen[validation.PASSWORD_LIKE_PARAMETER]
    assert [p for p in seen[validation.PASSWORD_LIKE_PARAMETER] if not validation.SECRET_LOOKING_SWITCH.match(p)] == []


def test_the_default_bucket_base_is_a_placeholder_no_account_can_own():
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html:
    # "Bucket names must not start with the prefix amzn-s3-demo-".
    assert solution.PLACEHOLDER_BUCKET_BASE.startswith("amzn-s3-demo-")
    assert Distribution().bucket_base == solution.PLACEHOLDER_BUCKET_BASE
    assert "solutions_bucket" not in json.loads((ROOT / "cdk.json").read_text()).get("context", {})
    assert re.search(r"^BUCKET \?=\s*$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    script = (ROOT / "deployment" / "build-s3-dist.sh").read_text()
    assert 'bucket=""' in script and "PLACEHOLDER_BUCKET_BASE" in script


def test_cdk_json_runs_the_app_with_the_virtualenv_python_and_node(tmp_path):
    """The CDK CLI runs cdk.json's "app" through a shell in the project folder; without an activated
    virtualenv it must still get the venv's Python (aws-cdk-lib) and Node.js (jsii: the system Node may
    be end-of-life, with a banner on every synth). Run here with a stand-in app.py."""
    app = json.loads((ROOT / "cdk.json").read_text())["app"]
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    (tmp_path / "app.py").write_text(
        "import json, os, shutil, sys\n"
        "print(json.dumps({'python': sys.prefix, 'node': shutil.which('node'), 'out': os.environ.get('CDK_OUTDIR')}))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CDK_OUTDIR": str(tmp_path / "out")}
    done = subprocess.run(app, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert Path(seen["python"]).resolve() == Path(sys.prefix).resolve()
    assert seen["node"] and Path(seen["node"]).parent.resolve() == (Path(sys.prefix) / "bin").resolve()
    assert seen["out"] == env["CDK_OUTDIR"]


#: Distribution name -> import name of the runtime dependencies.
IMPORT_NAMES = {
    "aws-cdk-lib": "aws_cdk",
    "constructs": "constructs",
    "cdk-nag": "cdk_nag",
    "boto3": "boto3",
    "botocore": "botocore",  # botocore.exceptions, botocore.config (pinned with boto3: pyproject.toml)
    "pyyaml": "yaml",
    "policy-sentry": "policy_sentry",
    "jsonschema": "jsonschema",  # asr policy validates its document against asr/policy/schema.json
    "moto": "moto",  # asr simulate's emulated AWS (asr/simulator/orchestration)
}


def test_every_runtime_dependency_is_imported():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = [re.match(r"[A-Za-z0-9_.-]+", d).group(0).lower() for d in declared]
    assert set(names) <= set(IMPORT_NAMES), f"add the import name of {set(names) - set(IMPORT_NAMES)}"
    sources = "\n".join(
        p.read_text(encoding="utf-8")
        for folder in ("asr", "lambdas", "remediation_runbooks")
        for p in (ROOT / folder).rglob("*.py")
    )
    unused = [n for n in names if not re.search(rf"^\s*(import|from) {IMPORT_NAMES[n]}\b", sources, re.MULTILINE)]
    assert unused == []
