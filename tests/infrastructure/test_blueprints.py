"""Ticketing blueprint templates (as built): parameters, the function, its role and log group, its code."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile

import pytest
from cfnlint.api import ManualArgs, lint

from asr import solution
from asr.blueprints.stack import BLUEPRINTS, CODE_ZIP, JIRA, SERVICENOW, Blueprint
from asr.build import REGIONAL_ASSETS
from asr.iam.template import Location, Resolver, roles_of
from lambdas.ticketing import core, jira, servicenow
from tests.infrastructure.conftest import VERSION, resources_of

ACCOUNT = "123456789012"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:asr/jira-AbCdEf"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BY_KEY = {"Jira": (JIRA, jira), "ServiceNow": (SERVICENOW, servicenow)}


def template_of(templates, blueprint: Blueprint) -> dict:
    return templates[solution.TEMPLATE_FILES[blueprint.stack_id]]


def the_function(template: dict) -> dict:
    (function,) = resources_of(template, "AWS::Lambda::Function").values()
    return function["Properties"]


@pytest.mark.parametrize("blueprint", BLUEPRINTS, ids=lambda b: b.key)
def test_blueprint_parameters_are_the_references(templates, blueprint: Blueprint):
    template = template_of(templates, blueprint)
    params = template["Parameters"]
    assert set(params) == {"InstanceURI", "SecretArn", blueprint.extra_parameter, "SecretKmsKeyArn"}
    assert params["SecretKmsKeyArn"]["Default"] == "", "the one addition is optional"
    assert "Default" not in params["InstanceURI"] and "Default" not in params["SecretArn"]
    if blueprint is SERVICENOW:
        assert params["ServiceNowTableName"]["Default"] == "incident"
    assert template["Description"] == f"(SO0111J) {solution.SOLUTION_NAME} {blueprint.key} Blueprint Stack, {VERSION}"
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    assert [g["Label"]["default"] for g in groups] == [
        f"{blueprint.key} Project Information",
        f"{blueprint.key} API Credentials",
    ]


@pytest.mark.parametrize("blueprint", BLUEPRINTS, ids=lambda b: b.key)
def test_blueprint_function_log_group_and_outputs(templates, blueprint: Blueprint):
    template = template_of(templates, blueprint)
    function = the_function(template)
    assert function["FunctionName"] == blueprint.function_name
    assert function["FunctionName"] in (solution.JIRA_TICKET_FUNCTION, solution.SERVICENOW_TICKET_FUNCTION)
    assert function["Handler"] == f"lambdas.ticketing.{blueprint.module}.lambda_handler"
    assert function["Timeout"] == 60 and function["MemorySize"] == 256
    variables = function["Environment"]["Variables"]
    assert variables == {
        "INSTANCE_URI": {"Ref": "InstanceURI"},
        blueprint.extra_environment: {"Ref": blueprint.extra_parameter},
        "SECRET_ARN": {"Ref": "SecretArn"},
        "LOG_LEVEL": "INFO",
    }, "nothing else: in particular no switch that could let the function talk plain http"
    ((group_id, group),) = resources_of(template, "AWS::Logs::LogGroup").items()
    assert group["Properties"]["LogGroupName"] == f"/aws/lambda/{blueprint.function_name}"
    assert group["Properties"]["RetentionInDays"] == 3653  # the reference's 10 years
    assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == "Retain"
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": group_id}}
    outputs = template["Outputs"]
    assert outputs["TicketGeneratorFunctionName"]["Value"] == blueprint.function_name
    function_id = next(iter(resources_of(template, "AWS::Lambda::Function")))
    assert outputs["TicketGeneratorLambdaFunction"]["Value"] == {"Fn::GetAtt": [function_id, "Arn"]}


def _role(template: dict, **parameters: str):
    resolver = Resolver(template, Location(ACCOUNT, "us-east-1"), {"SecretArn": SECRET, **parameters})
    ((_, role),) = roles_of(resolver, "blueprint").items()
    return role


@pytest.mark.parametrize("blueprint", BLUEPRINTS, ids=lambda b: b.key)
def test_blueprint_role_reads_only_its_secret_and_writes_only_its_logs(templates, blueprint: Blueprint):
    template = template_of(templates, blueprint)
    role = _role(template)
    granted = {
        (action, resource)
        for policy in role.policies
        for statement in policy.statements
        for action in statement.actions
        for resource in statement.resources
    }
    group = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/{blueprint.function_name}:*"
    assert granted == {
        ("logs:CreateLogStream", group),
        ("logs:PutLogEvents", group),
        ("secretsmanager:GetSecretValue", SECRET),
    }
    assert all(s.effect == "Allow" and not s.conditions for p in role.policies for s in p.statements)
    assert role.managed_policy_arns == ()
    (trust,) = role.trust.statements
    assert (trust.effect, trust.actions, trust.principals) == (
        "Allow",
        ("sts:AssumeRole",),
        {"Service": ("lambda.amazonaws.com",)},
    )


@pytest.mark.parametrize("blueprint", BLUEPRINTS, ids=lambda b: b.key)
def test_blueprint_role_decrypts_with_the_secrets_key_only_when_given(templates, blueprint: Blueprint):
    template = template_of(templates, blueprint)
    with_key = _role(template, SecretKmsKeyArn=KEY)
    extra = [s for p in with_key.policies for s in p.statements if "kms:Decrypt" in s.actions]
    (statement,) = extra
    assert (statement.actions, statement.resources) == (("kms:Decrypt",), (KEY,))
    # only through Secrets Manager
    assert statement.conditions == {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}
    without = _role(template)
    assert not [s for p in without.policies for s in p.statements if any("kms" in a for a in s.actions)]


def _code_accepts(check, value) -> bool:
    try:
        check(value)
    except core.TicketError:
        return False
    return True


URIS = [
    "https://acme.atlassian.net",
    "https://acme.atlassian.net/",
    "https://ACME-sec.atlassian.net",
    "https://dev12345.service-now.com",
    "https://dev12345.service-now.com/",
    "http://acme.atlassian.net",
    "https://user:pw@acme.atlassian.net",
    "https://acme.atlassian.net/jira",
    "https://acme.atlassian.net?x",
    "https://acme.atlassian.net#x",
    "https://a.b.atlassian.net",
    "https://evil.example/.atlassian.net",
    "https://evil.example#.atlassian.net",
    "https://acme.atlassian.net.evil.example",
    "https://-acme.atlassian.net",
    "https://acme.service-now.com.evil.example",
    "https://acme.atlassian.net:443",
    "http://127.0.0.1:8080",
]


@pytest.mark.parametrize("blueprint", BLUEPRINTS, ids=lambda b: b.key)
def test_the_template_and_the_function_accept_the_same_values(templates, blueprint: Blueprint):
    """CloudFormation refuses at deploy time what the function would refuse at run time (and vice versa)."""
    params = template_of(templates, blueprint)["Parameters"]
    _, module = BY_KEY[blueprint.key]
    product = module.PRODUCT

    def cfn(name: str, value: str) -> bool:
        return re.fullmatch(params[name]["AllowedPattern"], value) is not None

    for uri in URIS:
        code = _code_accepts(lambda v: core.instance_base(v, product.host, product.name, ""), uri)
        assert cfn("InstanceURI", uri) == code, uri
    extra = {"Jira": ["SEC", "S", "sec", "SEC-1", "A_1", "ASR2"], "ServiceNow": ["incident", "u_sec", "Incident", "1x"]}
    for value in extra[blueprint.key]:
        code = _code_accepts(lambda v: product.settings({blueprint.extra_environment: v}), value)
        assert cfn(blueprint.extra_parameter, value) == code, value
    for arn in (SECRET, "arn:aws:secretsmanager:us-east-1:123456789012:secret:", "my-secret", SECRET + "\n"):
        code = _code_accepts(lambda v: core.secret_arn({"SECRET_ARN": v}), arn)
        assert cfn("SecretArn", arn) == code, arn


@pytest.mark.parametrize("blueprint", BLUEPRINTS, ids=lambda b: b.key)
def test_blueprint_templates_are_cfn_lint_clean(templates, blueprint: Blueprint):
    """Not only free of errors (checked for every template): no warning either."""
    template = template_of(templates, blueprint)
    matches = lint(json.dumps(template), config=ManualArgs(regions=["us-east-1", "us-gov-west-1", "cn-north-1"]))
    assert [f"{m.rule.id} {m.message}" for m in matches] == []


def test_the_built_zip_holds_the_ticketing_code_the_templates_run(built, templates, tmp_path):
    (package,) = [z for z in built.zips if z.name == CODE_ZIP]
    assert package.parent == built.out / REGIONAL_ASSETS / solution.LAMBDA_ASSET_FOLDER
    names = set(zipfile.ZipFile(package).namelist())
    assert {
        "lambdas/__init__.py",
        "lambdas/ticketing/__init__.py",
        "lambdas/ticketing/core.py",
        "lambdas/ticketing/jira.py",
        "lambdas/ticketing/servicenow.py",
        "asr/__init__.py",
        "asr/solution.py",
    } <= names
    assert not any(n.startswith("tests/") or "__pycache__" in n for n in names)
    for blueprint in BLUEPRINTS:
        key = the_function(template_of(templates, blueprint))["Code"]["S3Key"]["Fn::Join"][1][-1]
        assert key == f"{solution.LAMBDA_ASSET_FOLDER}/{CODE_ZIP}"
    # the zip alone (plus the Lambda runtime's boto3) imports both handlers, with the test switch off
    zipfile.ZipFile(package).extractall(tmp_path)
    probe = (
        "import sys; sys.path.insert(0, '.');"
        "from lambdas.ticketing import core, jira, servicenow;"
        "assert core.__file__.startswith(sys.argv[1]), core.__file__;"
        "print(core.ALLOW_LOOPBACK_HTTP, callable(jira.lambda_handler), callable(servicenow.lambda_handler))"
    )
    run = subprocess.run(
        [sys.executable, "-I", "-c", probe, str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "True", "True"]
