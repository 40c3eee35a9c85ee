"""asr preflight: offline checks against the built templates, read-only AWS checks on moto.

The AWS calls of preflight are made with the user's own credentials, not by any role of our
templates, so the IAM enforcer has nothing to check for them (it checks our roles only).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from asr import cli
from asr.build import GLOBAL_ASSETS
from asr.preflight import STACKSETS_PRINCIPAL, playbooks_for

ADMIN = "111111111111"


def _run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def template_dir(built):
    return str(built.out / GLOBAL_ASSETS)


def offline(template_dir, *extra, admin=ADMIN, regions="us-east-1,eu-west-1"):
    return _run(
        "preflight", "--admin-account", admin, "--regions", regions, "--templates", template_dir, "--offline", *extra
    )


def lines(out: str, status: str) -> list[str]:
    return [line.strip()[len(status) :].strip() for line in out.splitlines() if line.strip().startswith(status + " ")]


def test_prints_what_the_deployment_needs(template_dir):
    code, out, err = offline(
        template_dir,
        "--ous",
        "ou-ab12-cdefgh34,r-ab12",
        "--member-accounts",
        "222222222222",
        "--namespace",
        "prod",
        "--consolidated-findings",
        "on",
        "--parameter",
        "member:LogGroupName=aws-controltower/CloudTrailLogs",
    )
    assert code == 0, err
    assert "bucket mybucket-reference: every template, readable by the organization" in out
    assert "bucket mybucket-us-east-1 in us-east-1: the Lambda zips" in out
    assert "bucket mybucket-eu-west-1 in eu-west-1: the Lambda zips" in out
    assert "admin stack: account 111111111111, Region us-east-1" in out
    assert "playbooks loaded: admin SC; member SC" in out
    assert "custom execution role template" in out  # OUs -> service-managed StackSets
    member = json.loads((Path(template_dir) / "automated-security-response-member.template").read_text())
    count = len(member["Parameters"])
    assert f"member template: every parameter has a valid value ({count} parameters)" in " ".join(lines(out, "OK"))
    assert "consolidated control findings on: SC is loaded" in lines(out, "OK")
    assert lines(out, "FAIL") == []
    assert lines(out, "SKIP") == [
        "AWS checks skipped (--offline): caller identity; Security Hub enabled and its control finding generator, "
        "per Region; Security Hub administrator / delegated administrator; StackSets trusted access in AWS "
        "Organizations; existing ASR stacks and their versions, per Region"
    ]


def test_member_parameter_count_is_the_templates(template_dir):
    template = json.loads((Path(template_dir) / "automated-security-response-member.template").read_text())
    _, out, _ = offline(template_dir, "--namespace", "prod", "--parameter", "member:LogGroupName=x")
    assert f"member template: every parameter has a valid value ({len(template['Parameters'])} parameters)" in out


def test_missing_required_values_are_warned(template_dir):
    code, out, _ = offline(template_dir)
    assert code == 0
    warned = lines(out, "WARN")
    assert "member-roles template: no value yet for Namespace (no default: the stack needs one)" in warned
    assert "member template: no value yet for LogGroupName, Namespace (no default: the stack needs one)" in warned
    assert any(w.startswith("consolidated control findings not stated") for w in warned)
    assert "no --member-accounts or --ous: only the admin account would get member stacks" in warned


def test_consolidated_findings_on_needs_sc(template_dir):
    code, out, _ = offline(template_dir, "--consolidated-findings", "on", "--playbooks", "AFSBP,CIS140")
    assert code == 1
    assert "consolidated control findings are on but SC is not loaded: no finding would match" in lines(out, "FAIL")
    assert "consolidated control findings on: AFSBP, CIS140 would get no findings (load SC)" in lines(out, "WARN")


def test_consolidated_findings_off_needs_standard_playbooks(template_dir):
    code, out, _ = offline(template_dir, "--consolidated-findings", "off")
    assert code == 1
    assert any(
        f.startswith("consolidated control findings are off but no standard playbook is loaded")
        for f in lines(out, "FAIL")
    )
    code, out, _ = offline(template_dir, "--consolidated-findings", "off", "--playbooks", "AFSBP,PCI321")
    assert code == 0
    assert "consolidated control findings off: standard playbooks loaded: AFSBP, PCI321" in lines(out, "OK")
    assert "playbooks loaded: admin AFSBP, PCI321; member AFSBP, PCI321" in out
    assert playbooks_for("on") == ("SC",)
    assert "SC" not in playbooks_for("off")


def test_admin_and_member_playbooks_must_agree(template_dir):
    code, out, _ = offline(template_dir, "--parameter", "LoadAFSBPAdminStack=yes")
    assert code == 1
    assert lines(out, "FAIL") == [
        "the admin stack loads SC, AFSBP but the member stack loads SC: a playbook needs both (its rules in the "
        "admin account, its runbooks in every member)"
    ]


def test_admin_account_missing_from_member_accounts(template_dir):
    _, out, _ = offline(template_dir, "--member-accounts", "222222222222,333333333333")
    assert "admin account 111111111111 is not in --member-accounts: it needs member-roles and member too" in lines(
        out, "WARN"
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--admin-account", "12345"), "--admin-account: '12345' is not a 12-digit AWS account id"),
        (("--admin-account", "111111111111,222222222222"), "give exactly one 12-digit account id"),
        (("--member-accounts", "222222222222,22222222222x"), "--member-accounts: '22222222222x' is not a 12-digit"),
        (("--member-accounts", "222222222222,222222222222"), "'222222222222' is listed twice"),
        (("--member-accounts", "222222222222,"), "empty item in the comma-separated list"),
        (("--ous", "ou-AB12-cdefgh34"), "--ous: 'ou-AB12-cdefgh34' is not an organizational unit id"),
        (("--ous", "Security"), "--ous: 'Security' is not an organizational unit id (ou-xxxx-xxxxxxxx)"),
        (("--regions", "us-east-1,useast1"), "--regions: 'useast1' is not an AWS Region name"),
        (("--admin-region", "eu-central-1"), "--admin-region 'eu-central-1' is not in --regions 'us-east-1,eu-west-1'"),
        (("--namespace", "ASR"), "member-roles parameter Namespace='ASR' does not match AllowedPattern"),
        (("--namespace", "ab"), "member-roles parameter Namespace='ab' is shorter than MinLength 3"),
        (("--playbooks", "SC,FOO"), "--playbooks 'SC,FOO': 'FOO' is not a playbook"),
        (
            ("--parameter", "LogGroupNme=x"),
            "'LogGroupNme' (not a parameter of the admin, member-roles or member template; did you mean LogGroupName?)",
        ),
        (
            ("--parameter", "member:LogGroupName=bad group!"),
            "member parameter LogGroupName='bad group!' does not match AllowedPattern",
        ),
        (
            ("--parameter", "UseCloudWatchMetrics=maybe"),
            "admin parameter UseCloudWatchMetrics='maybe' is not one of 'yes', 'no'",
        ),
        (
            ("--parameter", "RemediationFailureAlarmThreshold=ten"),
            "RemediationFailureAlarmThreshold='ten' is not a number",
        ),
        (("--parameter", "TargetAccountIDs=" + "1" * 3361), "is longer than MaxLength 3360"),
        (
            ("--parameter", "member:RemediationKeyArn=arn:aws:kms:us-east-1:1:key/x"),
            "member parameter RemediationKeyArn='arn:aws:kms:us-east-1:1:key/x' does not match AllowedPattern",
        ),
    ],
)
def test_bad_input_names_field_and_value(template_dir, extra, message):
    options = {"--admin-account": ADMIN, "--regions": "us-east-1,eu-west-1", "--templates": template_dir}
    argv = ["preflight", "--offline"]
    for key, value in zip(extra[::2], extra[1::2], strict=True):
        if key in options:
            options[key] = value
        else:
            argv += [key, value]
    for key, value in options.items():
        argv += [key, value]
    code, out, err = _run(*argv)
    assert code == 2 and out == "", err
    assert message in err


def test_without_credentials_it_says_what_it_skipped(template_dir, monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookup: nothing leaves the host
    code, out, _ = _run("preflight", "--admin-account", ADMIN, "--regions", "us-east-1", "--templates", template_dir)
    assert code == 0
    assert lines(out, "SKIP") == [
        "no AWS credentials: skipped caller identity; Security Hub enabled and its control finding generator, per "
        "Region; Security Hub administrator / delegated administrator; StackSets trusted access in AWS "
        "Organizations; existing ASR stacks and their versions, per Region"
    ]


@pytest.fixture
def securityhub_delegation(monkeypatch):
    """moto 5.2 accepts delegated administrators for six services only; AWS also for Security Hub
    (https://docs.aws.amazon.com/organizations/latest/userguide/services-that-can-integrate-securityhub.html):
    its list of services gets securityhub.amazonaws.com for this test."""
    from moto.organizations.models import FakeDelegatedAdministrator

    services = [*FakeDelegatedAdministrator.SUPPORTED_SERVICES, "securityhub.amazonaws.com"]
    monkeypatch.setattr(FakeDelegatedAdministrator, "SUPPORTED_SERVICES", services)


def _stack(cfn, name: str, description: str) -> None:
    body = {"Description": description, "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(body))


def test_online_checks_on_moto(template_dir, securityhub_delegation):
    """Management account 111111111111 runs preflight for a delegated admin account it creates."""
    with mock_aws():
        org = boto3.client("organizations", region_name="us-east-1")
        org.create_organization(FeatureSet="ALL")
        status = org.create_account(Email="security@example.com", AccountName="security")["CreateAccountStatus"]
        admin = status["AccountId"]
        org.register_delegated_administrator(AccountId=admin, ServicePrincipal="securityhub.amazonaws.com")
        org.enable_aws_service_access(ServicePrincipal=STACKSETS_PRINCIPAL)
        boto3.client("securityhub", region_name="us-east-1").enable_security_hub()
        cfn = boto3.client("cloudformation", region_name="us-east-1")
        _stack(cfn, "asr-admin", "(SO0111) Automated Security Response on AWS Administrator Stack, v2.3.2")
        _stack(cfn, "sharr-member", "(SO0111M) AWS Security Hub Automated Response & Remediation Member, v1.5.1")
        _stack(cfn, "unrelated", "something else, v2.3.2")
        code, out, _ = _run(
            "preflight",
            "--admin-account",
            admin,
            "--regions",
            "us-east-1,eu-west-1",
            "--ous",
            "ou-ab12-cdefgh34",
            "--consolidated-findings",
            "off",
            "--playbooks",
            "AFSBP",
            "--templates",
            template_dir,
        )
    assert code == 1
    ok, warn, fail = lines(out, "OK"), lines(out, "WARN"), lines(out, "FAIL")
    assert "Security Hub enabled in account 111111111111, us-east-1 (control findings: SECURITY_CONTROL)" in ok
    assert "Security Hub is not enabled in account 111111111111, eu-west-1" in fail
    assert (
        "--consolidated-findings off but Security Hub in us-east-1 has ControlFindingGenerator SECURITY_CONTROL "
        "(consolidated on): load SC" in fail
    )
    assert f"Security Hub delegated administrator: {admin}" in ok
    assert "StackSets trusted access is enabled in AWS Organizations" in ok
    assert (
        "stack asr-admin in us-east-1: Automated Security Response on AWS Administrator Stack v2.3.2 "
        "(CREATE_COMPLETE): update it in place with the new template (docs/upgrade.md)" in warn
    )
    assert any(
        f.startswith("stack sharr-member in us-east-1: AWS Security Hub Automated Response & Remediation Member v1.5.1")
        and "update to v2.3.2 first" in f
        for f in fail
    )
    assert not any("unrelated" in line for line in out.splitlines())
    assert "no ASR stack in account 111111111111, eu-west-1" in ok
    assert any(w.startswith(f"credentials are for account 111111111111, not the admin account {admin}") for w in warn)
    assert lines(out, "SKIP") == []


def test_online_checks_report_what_they_could_not_check(template_dir, securityhub_delegation):
    """No organization, no trusted access: the organization checks say so; a missing trusted access fails with OUs."""
    with mock_aws():
        boto3.client("securityhub", region_name="us-east-1").enable_security_hub()
        _, out, _ = _run("preflight", "--admin-account", ADMIN, "--regions", "us-east-1", "--templates", template_dir)
        skipped = lines(out, "SKIP")
        assert len(skipped) == 1 and skipped[0].startswith("AWS Organizations: DescribeOrganization refused (")
        assert "delegated administrator and StackSets trusted access checks" in skipped[0]
        org = boto3.client("organizations", region_name="us-east-1")
        org.create_organization(FeatureSet="ALL")
        code, out, _ = _run(
            "preflight",
            "--admin-account",
            ADMIN,
            "--regions",
            "us-east-1",
            "--ous",
            "ou-ab12-cdefgh34",
            "--templates",
            template_dir,
        )
    assert code == 1
    fail = lines(out, "FAIL")
    assert any(
        f.startswith("StackSets trusted access is not enabled: service-managed StackSets to --ous") for f in fail
    )
    assert "Security Hub delegated administrator is none, not 111111111111" in fail
    assert any(w.startswith("the admin account 111111111111 is the management account") for w in lines(out, "WARN"))
