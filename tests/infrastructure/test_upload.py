"""deployment/upload-s3-dist.sh against a real S3 API (moto server on 127.0.0.1), and the StackSets guidance.

The script runs in a subprocess, talks HTTP to the server (AWS_ENDPOINT_URL), and must put every
built template into ``<bucket>-reference`` and every Lambda zip into ``<bucket>-<region>`` under the
key prefix the templates fetch from. docs/deploy.md's bucket policy and StackSets commands are
checked against the same layout and against botocore's CloudFormation API model.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import urllib.request
from pathlib import Path

import boto3
import botocore.session
import pytest
import yaml
from cfnlint.api import ManualArgs, lint
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from asr import solution
from asr.build import GLOBAL_ASSETS, REGIONAL_ASSETS, REPO_ROOT
from asr.upload import plan
from tests.infrastructure.conftest import BUCKET, VERSION

SCRIPT = REPO_ROOT / "deployment" / "upload-s3-dist.sh"
DOCS = REPO_ROOT / "docs" / "deploy.md"
ROLE_TEMPLATE = REPO_ROOT / "deployment" / "stackset-execution-role.template"
PREFIX = f"{solution.TRADEMARKED_NAME}/{VERSION}"


@pytest.fixture(scope="module")
def server():
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    url = f"http://{host}:{port}"
    yield url
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))  # leave no state behind
    moto.stop()


@pytest.fixture
def dist(built, tmp_path) -> Path:
    """The real build, with the setenv.sh build-s3-dist.sh writes beside it."""
    target = tmp_path / "dist"
    shutil.copytree(built.out / GLOBAL_ASSETS, target / GLOBAL_ASSETS)
    shutil.copytree(built.out / REGIONAL_ASSETS, target / REGIONAL_ASSETS)
    (target / "setenv.sh").write_text(
        f"export DIST_OUTPUT_BUCKET={BUCKET}\nexport DIST_VERSION={VERSION}\n"
        f"export DIST_SOLUTION_NAME={solution.TRADEMARKED_NAME}\n"
    )
    return target


def s3(server: str):
    return boto3.client("s3", region_name="us-east-1", endpoint_url=server)


def fresh_buckets(server: str, *buckets: tuple[str, str]) -> None:
    client = s3(server)
    for name, region in buckets:
        try:
            objects = client.list_objects_v2(Bucket=name).get("Contents", [])
        except client.exceptions.NoSuchBucket:
            objects = None
        if objects is None:
            config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            client.create_bucket(Bucket=name, **config)
        for obj in objects or []:
            client.delete_object(Bucket=name, Key=obj["Key"])


def run_script(server: str, dist: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": server,
    }
    return subprocess.run(
        ["bash", str(SCRIPT), *args, "--dist", str(dist)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def stored(server: str, bucket: str) -> dict[str, int]:
    pages = s3(server).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", [])}


def test_upload_puts_every_file_where_the_templates_fetch_it(server, dist, built):
    region = "eu-west-1"
    fresh_buckets(server, (f"{BUCKET}-reference", "us-east-1"), (f"{BUCKET}-{region}", region))
    result = run_script(server, dist, region, "--yes")
    assert result.returncode == 0, result.stderr + result.stdout
    templates = stored(server, f"{BUCKET}-reference")
    code = stored(server, f"{BUCKET}-{region}")
    assert templates == {f"{PREFIX}/{path}": (dist / GLOBAL_ASSETS / path).stat().st_size for path in built.templates}
    assert code == {f"{PREFIX}/lambda/{z.name}": z.stat().st_size for z in built.zips}
    # byte for byte, and where the templates say: nested TemplateURLs and Lambda S3Key
    client = s3(server)
    member = solution.TEMPLATE_FILES[solution.MEMBER_STACK]
    body = client.get_object(Bucket=f"{BUCKET}-reference", Key=f"{PREFIX}/{member}")["Body"].read()
    assert body == (dist / GLOBAL_ASSETS / member).read_bytes()
    for path, template in built.templates.items():
        for res in template["Resources"].values():
            if res["Type"] == "AWS::CloudFormation::Stack":
                nested = res["Properties"]["TemplateURL"]["Fn::Join"][1][-1].lstrip("/")
                assert f"{PREFIX}/{nested}" in templates, (path, nested)
            if res["Type"] == "AWS::Lambda::Function":
                zip_name = res["Properties"]["Code"]["S3Key"]["Fn::Join"][1][-1].rsplit("/", 1)[-1]
                assert f"{PREFIX}/lambda/{zip_name}" in code, (path, zip_name)
    assert f"uploaded {len(templates) + len(code)} files; admin template: https://{BUCKET}-reference" in result.stdout


def test_upload_to_a_second_region_uses_its_own_bucket(server, dist, built):
    fresh_buckets(server, (f"{BUCKET}-reference", "us-east-1"), (f"{BUCKET}-us-east-1", "us-east-1"))
    result = run_script(server, dist, "us-east-1", "--yes")
    assert result.returncode == 0, result.stderr
    assert set(stored(server, f"{BUCKET}-us-east-1")) == {f"{PREFIX}/lambda/{z.name}" for z in built.zips}


def test_dry_run_lists_every_file_and_uploads_nothing(server, dist, built):
    region = "eu-west-1"
    fresh_buckets(server, (f"{BUCKET}-reference", "us-east-1"), (f"{BUCKET}-{region}", region))
    result = run_script(server, dist, region, "--dry-run")
    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^would upload (\S+) -> s3://([^/]+)/(\S+) \(", result.stdout, re.M)
    expected = [(str(u.source), u.bucket, u.key) for u in plan(dist, BUCKET, VERSION, region)]
    assert listed == expected
    assert len(listed) == len(built.templates) + len(built.zips)
    assert result.stdout.rstrip().endswith("dry run: nothing uploaded")
    assert stored(server, f"{BUCKET}-reference") == {} and stored(server, f"{BUCKET}-{region}") == {}


def test_a_missing_bucket_stops_the_upload_before_anything_is_written(server, dist):
    fresh_buckets(server, (f"{BUCKET}-reference", "us-east-1"))
    result = run_script(server, dist, "ap-south-1", "--yes")
    assert result.returncode == 1
    assert f"bucket {BUCKET}-ap-south-1 does not exist or is not owned by account" in result.stderr
    assert stored(server, f"{BUCKET}-reference") == {}


def test_a_code_bucket_in_another_region_is_refused(server, dist):
    fresh_buckets(server, (f"{BUCKET}-reference", "us-east-1"), (f"{BUCKET}-us-west-2", "eu-central-1"))
    result = run_script(server, dist, "us-west-2", "--yes")
    assert result.returncode == 1
    assert f"bucket {BUCKET}-us-west-2 is in eu-central-1, not us-west-2" in result.stderr
    assert stored(server, f"{BUCKET}-reference") == {}


def test_without_yes_and_without_a_terminal_it_refuses(server, dist):
    fresh_buckets(server, (f"{BUCKET}-reference", "us-east-1"), (f"{BUCKET}-eu-west-1", "eu-west-1"))
    result = run_script(server, dist, "eu-west-1")
    assert result.returncode == 1
    assert "refusing to upload without confirmation: pass --yes" in result.stderr
    assert stored(server, f"{BUCKET}-reference") == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [(("useast1",), "region like us-east-1, got 'useast1'"), (("us-east-1", "--force"), "unknown option '--force'")],
)
def test_bad_arguments_are_named(server, dist, args, message):
    result = run_script(server, dist, *args)
    assert result.returncode == 2 and message in result.stderr


# --- StackSets guidance (docs/deploy.md) ----------------------------------------------------------


def _docs() -> str:
    return DOCS.read_text(encoding="utf-8")


def test_bucket_policy_in_the_docs_lets_the_organization_read_every_published_object(dist):
    text = _docs()
    block = re.search(r"```json\n(.*?)```", text, re.S)
    assert block, "docs/deploy.md has the bucket policy as a json block"
    policy = json.loads(block.group(1))
    allow = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert len(allow) == 1
    grant = allow[0]
    assert grant["Principal"] == "*" and grant["Action"] == "s3:GetObject"
    assert grant["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorgid"}}
    # The docs use bucket base my-asr; the policy must cover every object the upload writes there.
    assert "my-asr-reference" in grant["Resource"]
    for upload in plan(dist, "my-asr", VERSION, "us-east-1"):
        resource = grant["Resource"].replace("my-asr-reference", upload.bucket)
        assert fnmatch.fnmatchcase(f"arn:aws:s3:::{upload.bucket}/{upload.key}", resource), upload.key
    deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def _commands(text: str) -> list[list[str]]:
    """Every ``aws cloudformation ...`` command of the docs' bash blocks, as argv."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.split(" #", 1)[0].strip()
            if line.startswith("aws cloudformation "):
                commands.append(shlex.split(line))
    return commands


def test_stackset_commands_in_the_docs_match_the_cloudformation_api():
    """Each option of the documented commands is a member of the operation (botocore's model is the CLI's)."""
    model = botocore.session.get_session().get_service_model("cloudformation")
    commands = _commands(_docs())
    seen = set()
    for argv in commands:
        operation = model.operation_model("".join(w.capitalize() for w in argv[2].split("-")))
        members = {botocore.xform_name(m).replace("_", "-"): m for m in operation.input_shape.members}
        options = [a[2:] for a in argv[3:] if a.startswith("--")]
        unknown = [o for o in options if o not in members]
        assert unknown == [], (argv[2], unknown)
        missing = [
            m for m in operation.input_shape.required_members if botocore.xform_name(m).replace("_", "-") not in options
        ]
        assert missing == [], (argv[2], missing)
        seen.add((argv[2], " ".join(argv[3:])))
    service_managed = [" ".join(a) for a in commands if a[2] == "create-stack-set" and "SERVICE_MANAGED" in a]
    member = [c for c in service_managed if "member.template" in c]
    assert len(member) == 1
    # Nested stacks under service-managed permissions: a custom execution role template, a role name starting
    # with stacksets-exec-custom-, CAPABILITY_NAMED_IAM and CAPABILITY_AUTO_EXPAND (CreateStackSet reference).
    assert "--execution-role-template-body file://asr-exec-role.template" in member[0]
    assert "--execution-role-name stacksets-exec-custom-asr" in member[0]
    assert "CAPABILITY_NAMED_IAM CAPABILITY_AUTO_EXPAND" in member[0]
    assert all("--auto-deployment Enabled=true" in c for c in service_managed)
    instances = [
        " ".join(a) for a in commands if a[2] == "create-stack-instances" and "OrganizationalUnitIds=" in " ".join(a)
    ]
    assert len(instances) >= 2


def test_stackset_execution_role_template():
    text = ROLE_TEMPLATE.read_text(encoding="utf-8")
    assert "MANAGEMENT_ACCOUNT_ID" in text
    rendered = text.replace("MANAGEMENT_ACCOUNT_ID", "999999999999")

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: {f"Fn::{suffix}": loader.construct_scalar(node)})
    template = yaml.load(rendered, Loader=Loader)
    matches = lint(rendered, config=ManualArgs(regions=["us-east-1"]))
    assert [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")] == []
    role = template["Resources"]["ExecutionRole"]["Properties"]
    assert role["RoleName"].startswith("stacksets-exec-custom-")
    assert role["RoleName"] in _docs()
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Principal"]["AWS"]["Fn::Sub"] == (
        "arn:${AWS::Partition}:iam::999999999999:role/aws-service-role/stacksets.cloudformation.amazonaws.com/"
        "AWSServiceRoleForCloudFormationStackSetsOrgAdmin"
    )
    # the sed line of the docs renders exactly this placeholder
    assert 'sed "s/MANAGEMENT_ACCOUNT_ID/$ORG_MGMT/" deployment/stackset-execution-role.template' in _docs()
