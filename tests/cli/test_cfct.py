"""asr cfct-manifest: a CfCT manifest (2021-03-15) for the built admin, member-roles and member templates."""

from __future__ import annotations

import copy
import datetime
import io
import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from asr import cfct, cli, solution
from asr.build import GLOBAL_ASSETS
from asr.preflight import STACKS, PreflightError, load_templates, value_problem
from tests.infrastructure.conftest import BUCKET, VERSION

ADMIN = "111111111111"
MEMBER = "222222222222"

# The CfCT manifest, version 2021-03-15, as a JSON Schema, written from the CfCT documentation:
# top level (region, version): https://docs.aws.amazon.com/controltower/latest/userguide/the-manifest-file.html
# resources: https://docs.aws.amazon.com/controltower/latest/userguide/cfct-manifest-file-resources-section.html
# nested OU names: https://docs.aws.amazon.com/controltower/latest/userguide/cfct-nested-ou.html
# ``version`` is a YAML date in the manifest (unquoted, as every example shows); it is compared here
# after ``as_json`` turns dates into ISO strings (and ``test_version_is_a_yaml_date`` checks the type).
MANIFEST_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["region", "version", "resources"],
    "additionalProperties": False,
    "properties": {
        # "region: ... must be a valid AWS Region name (such as us-east-1 ...)"
        "region": {"type": "string", "pattern": r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$"},
        # "version: The manifest schema version number. The latest supported version is 2021-03-15."
        "version": {"const": "2021-03-15"},
        # optional switch of the v2 manifest: delete stack sets removed from the manifest
        "enable_stack_set_deletion": {"type": "boolean"},
        "resources": {"type": "array", "items": {"$ref": "#/$defs/resource"}},
    },
    "$defs": {
        "resource": {
            "type": "object",
            "required": ["name", "resource_file", "deploy_method"],
            "additionalProperties": False,
            "properties": {
                # "name ... Valid values: a-z, A-Z, 0-9, and a hyphen (-). The name must start with an alphabetic
                # character."
                "name": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9-]*$"},
                "description": {"type": "string"},
                # "resource_file: [String] [Local File Path, S3 URI, S3 URL]"
                "resource_file": {"type": "string", "minLength": 1},
                "deployment_targets": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        # "accounts: # array of strings, [0-9]{12}" (or account names)
                        "accounts": {"type": "array", "items": {"type": "string", "minLength": 1}},
                        # OU names; nested as "OUName1:OUName2:OUName3", Root excluded
                        "organizational_units": {"type": "array", "items": {"type": "string", "minLength": 1}},
                    },
                },
                "deploy_method": {"enum": ["scp", "stack_set", "rcp"]},
                "parameter_file": {"type": "string"},
                "parameters": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["parameter_key", "parameter_value"],
                        "additionalProperties": False,
                        "properties": {"parameter_key": {"type": "string", "minLength": 1}, "parameter_value": {}},
                    },
                },
                "export_outputs": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "value"],
                        "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
                    },
                },
                "regions": {"type": "array", "uniqueItems": True, "items": {"type": "string"}},
            },
            # a stack set needs deployment targets (stack instances are deployed per account)
            "if": {"properties": {"deploy_method": {"const": "stack_set"}}},
            "then": {"required": ["deployment_targets"]},
        }
    },
}


def as_json(node):
    if isinstance(node, datetime.date):
        return node.isoformat()
    if isinstance(node, dict):
        return {k: as_json(v) for k, v in node.items()}
    if isinstance(node, list):
        return [as_json(v) for v in node]
    return node


def _run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def template_dir(built) -> Path:
    return built.out / GLOBAL_ASSETS


BASE = (
    "cfct-manifest",
    "--admin-account",
    ADMIN,
    "--namespace",
    "prod",
    "--regions",
    "us-east-1,eu-west-1",
    "--ous",
    "Security,Workloads:Prod",
    "--accounts",
    MEMBER,
    "--parameter",
    "member:LogGroupName=aws-controltower/CloudTrailLogs",
)


@pytest.fixture(scope="module")
def manifest_text(template_dir) -> str:
    code, out, err = _run(*BASE, "--templates", str(template_dir), "--parameter", "LoadAFSBPAdminStack=yes")
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def manifest(manifest_text) -> dict:
    return yaml.safe_load(manifest_text)


def test_manifest_validates_against_the_2021_03_15_schema(manifest):
    jsonschema.validate(as_json(manifest), MANIFEST_SCHEMA)
    assert [r["name"] for r in manifest["resources"]] == ["asr-admin", "asr-member-roles", "asr-member"]
    assert all(r["deploy_method"] == "stack_set" for r in manifest["resources"])


def test_version_is_a_yaml_date(manifest, manifest_text):
    assert manifest["version"] == datetime.date(2021, 3, 15)
    assert "\nversion: 2021-03-15\n" in manifest_text


def test_the_schema_is_not_vacuous(manifest):
    bad = as_json(copy.deepcopy(manifest))
    del bad["resources"][0]["deployment_targets"]
    with pytest.raises(jsonschema.ValidationError, match="deployment_targets"):
        jsonschema.validate(bad, MANIFEST_SCHEMA)
    for mutate, match in (
        (lambda m: m.update(version="2020-01-01"), "2021-03-15"),
        (lambda m: m["resources"][1].update(deploy_method="stack"), "stack"),
        (lambda m: m["resources"][2].update(name="1asr"), "1asr"),
        (lambda m: m["resources"][2]["parameters"].append({"parameter_key": "X"}), "parameter_value"),
    ):
        bad = as_json(copy.deepcopy(manifest))
        mutate(bad)
        with pytest.raises(jsonschema.ValidationError, match=match):
            jsonschema.validate(bad, MANIFEST_SCHEMA)


def test_every_template_parameter_is_listed_once_with_a_valid_value(manifest, templates):
    for resource, stack in zip(manifest["resources"], ("admin", "member-roles", "member"), strict=True):
        declared = templates[STACKS[stack]]["Parameters"]
        keys = [p["parameter_key"] for p in resource["parameters"]]
        assert keys == list(declared), stack  # every parameter, once, in template order
        for item in resource["parameters"]:
            value = item["parameter_value"]
            assert isinstance(value, str), (stack, item)
            assert value_problem(declared[item["parameter_key"]], value) is None, (stack, item)
    values = {
        r["name"]: {p["parameter_key"]: p["parameter_value"] for p in r["parameters"]} for r in manifest["resources"]
    }
    assert values["asr-admin"]["LoadAFSBPAdminStack"] == "yes"
    assert values["asr-admin"]["LoadSCAdminStack"] == "yes"  # the template's default
    assert values["asr-member"]["LoadAFSBPMemberStack"] == "no"
    assert values["asr-member"]["LogGroupName"] == "aws-controltower/CloudTrailLogs"
    assert values["asr-member"]["SecHubAdminAccount"] == values["asr-member-roles"]["SecHubAdminAccount"] == ADMIN
    assert values["asr-member"]["Namespace"] == values["asr-member-roles"]["Namespace"] == "prod"


def test_resource_files_are_the_published_templates(manifest, templates):
    prefix = f"https://{BUCKET}-reference.s3.amazonaws.com/{solution.TRADEMARKED_NAME}/{VERSION}/"
    for resource, stack in zip(manifest["resources"], ("admin", "member-roles", "member"), strict=True):
        assert resource["resource_file"] == prefix + STACKS[stack]
        assert resource["resource_file"].removeprefix(prefix) in templates


def test_deployment_targets_and_regions(manifest, manifest_text):
    admin, roles, member = manifest["resources"]
    assert manifest["region"] == "us-east-1"
    assert admin["deployment_targets"] == {"accounts": [ADMIN]} and admin["regions"] == ["us-east-1"]
    targets = {"organizational_units": ["Security", "Workloads:Prod"], "accounts": [MEMBER, ADMIN]}
    assert roles["deployment_targets"] == targets and roles["regions"] == ["us-east-1"]
    assert member["deployment_targets"] == targets and member["regions"] == ["us-east-1", "eu-west-1"]
    assert f"- '{ADMIN}'" in manifest_text  # account ids stay strings (unquoted, YAML would read a number)
    assert "&id" not in manifest_text


def test_the_manifest_follows_the_templates(template_dir, tmp_path):
    """Read from the synthesized templates: a parameter added to a template appears in the manifest."""
    copy_dir = tmp_path / "t"
    shutil.copytree(template_dir, copy_dir)
    path = copy_dir / STACKS["member-roles"]
    template = json.loads(path.read_text())
    template["Parameters"]["NewKnob"] = {"Type": "String", "Default": "off", "AllowedValues": ["on", "off"]}
    path.write_text(json.dumps(template))
    document = cfct.manifest(
        load_templates(copy_dir),
        admin_account=ADMIN,
        namespace="prod",
        region_list=["us-east-1"],
        overrides=[("member", "LogGroupName", "trail")],
    )
    roles = document["resources"][1]["parameters"]
    assert {"parameter_key": "NewKnob", "parameter_value": "off"} in roles


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ("--parameter", "LogGroupNam=x"),
            "unknown parameter name(s): 'LogGroupNam' (not a parameter of the admin, "
            "member-roles or member template; did you mean LogGroupName?)",
        ),
        (("--parameter", "admin:Namespace=x"), "'Namespace' (not a parameter of the admin template"),
        (("--parameter", "Bogus=1", "--parameter", "Other=2"), "'Bogus' (not a parameter"),
        (
            ("--parameter", "member:RemediationKeyMode=Sometimes"),
            "member parameter RemediationKeyMode='Sometimes' is not one of 'None', 'Existing', 'PerStack'",
        ),
        (("--parameter", "TargetAccountIDs=12345"), "admin parameter TargetAccountIDs='12345' does not match"),
        (
            ("--parameter", "RemediationFailureAlarmThreshold=500"),
            "RemediationFailureAlarmThreshold='500' is above MaxValue 100",
        ),
        (("--parameter", "nostack:X=1"), "stack 'nostack' is not one of admin, member-roles, member"),
        (("--parameter", "NoEquals"), "--parameter 'NoEquals': expected [STACK:]KEY=VALUE"),
        (
            ("--ous", "ou-ab12-cdefgh34"),
            "--ous: 'ou-ab12-cdefgh34' is an OU id or empty; CfCT's organizational_units takes OU names",
        ),
        (("--ous", "Root:Security"), "CfCT nested OU paths exclude Root (use 'Security')"),
        (("--accounts", "12345"), "--accounts: '12345' is not a 12-digit AWS account id"),
        (("--regions", "us-east-1,mars-1"), "--regions: 'mars-1' is not an AWS Region name"),
        (("--bucket", "otherbucket"), "--bucket 'otherbucket': the templates in"),
        (("--version", "v1.0.0"), "--version 'v1.0.0': the templates in"),
        (("--parameter", "SecHubAdminAccount=333333333333"), "contradicts the value '111111111111'"),
    ],
)
def test_bad_input_is_refused_naming_field_and_value(template_dir, extra, message):
    code, out, err = _run(*BASE, "--templates", str(template_dir), *extra)
    assert code == 2 and out == ""
    assert message in err


def test_namespace_value_is_checked_against_the_template(template_dir):
    code, _, err = _run(*BASE[:4], "Prod_1", *BASE[5:], "--templates", str(template_dir))
    assert code == 2
    assert "member-roles parameter Namespace='Prod_1' does not match AllowedPattern" in err


def test_a_parameter_without_default_needs_a_value(template_dir):
    code, _, err = _run(*BASE[:-2], "--templates", str(template_dir))
    assert code == 2
    assert "parameter(s) without a default need a value: member:LogGroupName" in err


def test_cfct_ssm_references_are_passed_through(template_dir):
    document = cfct.manifest(
        load_templates(template_dir),
        admin_account=ADMIN,
        namespace="prod",
        region_list=["us-east-1"],
        overrides=[("member", "LogGroupName", "$[alfred_ssm_/org/asr/log-group]")],
    )
    member = {p["parameter_key"]: p["parameter_value"] for p in document["resources"][2]["parameters"]}
    assert member["LogGroupName"] == "$[alfred_ssm_/org/asr/log-group]"


def test_output_file_and_missing_templates(template_dir, tmp_path):
    target = tmp_path / "manifest.yaml"
    code, out, _ = _run(*BASE, "--templates", str(template_dir), "-o", str(target))
    assert code == 0 and out == f"wrote {target}\n"
    jsonschema.validate(as_json(yaml.safe_load(target.read_text())), MANIFEST_SCHEMA)
    code, _, err = _run(*BASE, "--templates", str(tmp_path / "nowhere"))
    assert code == 2 and "no automated-security-response-admin.template there; build first" in err


def test_errors_are_preflight_errors(template_dir):
    with pytest.raises(PreflightError, match="--name-prefix '9x'"):
        cfct.manifest(
            load_templates(template_dir),
            admin_account=ADMIN,
            namespace="prod",
            region_list=["us-east-1"],
            name_prefix="9x",
        )
