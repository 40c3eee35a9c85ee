"""Shared fixtures: fake AWS credentials so nothing can ever reach AWS."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from hypothesis import HealthCheck, settings
from moto import mock_aws

ACCOUNT = "111111111111"
OTHER_ACCOUNT = "222222222222"
REGION = "us-east-1"

# --- Hypothesis -------------------------------------------------------------------------
# Property-based tests (marked ``fuzz``) run a small example budget by default, and 10,000
# examples per test under ``HYPOTHESIS_PROFILE=fuzz`` (or ``--hypothesis-profile=fuzz``);
# README.md, "Tests". No example database is written (database=None): nothing lands in the repo.
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
settings.register_profile("default", max_examples=10, deadline=None, database=None, suppress_health_check=_SLOW_OK)
settings.register_profile("fuzz", max_examples=10_000, deadline=None, database=None, suppress_health_check=_SLOW_OK)
# A partial fuzz run (e.g. the state machine at ~0.6 s an example): HYPOTHESIS_PROFILE=fuzz-n with
# HYPOTHESIS_MAX_EXAMPLES=<n>.
settings.register_profile(
    "fuzz-n",
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "1000")),
    deadline=None,
    database=None,
    suppress_health_check=_SLOW_OK,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fuzz: a property-based (Hypothesis) test; HYPOTHESIS_PROFILE=fuzz runs 10,000 examples"
    )


@pytest.fixture(autouse=True)
def _fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@contextlib.contextmanager
def multi_account_moto(monkeypatch: pytest.MonkeyPatch, account: str = ACCOUNT) -> Iterator[None]:
    """moto where credentials decide the account, and the caller acts in ``account``.

    MOTO_ACCOUNT_ID (set above for simple single-account tests) would pin every
    request to one account, collapsing cross-account runs (TargetLocations, the
    orchestrator assuming a member role); it is removed, and the ambient
    credentials become those of a role in ``account``, which moto maps to it.
    """
    from asr.simulator import emulation
    from asr.simulator.aws import new_session

    emulation.install()  # what AWS does and moto does not (asr/simulator/emulation)
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_aws():
        sts = boto3.Session().client("sts", region_name=REGION)
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/caller", RoleSessionName="caller")["Credentials"]
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
        monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", new_session())
        yield


# --- IAM as AWS enforces it -----------------------------------------------------------
#
# Every test runs under asr.iam's enforcer: each boto3 call made by one of our roles
# (a remediation's AutomationAssumeRole, the orchestrator member role, a Lambda's
# execution role) is checked against that role's policies as the templates synthesize
# them. A denied call fails the test even if the code under test catches the error.
# ``@pytest.mark.no_iam`` opts a test out (the test must say why).

ADMIN_ACCOUNT = "123456789012"  # the orchestrator harness's admin account (moto's default)
NAMESPACES = ("sim", "test")  # the Namespace values the test harnesses deploy with

_EXERCISED: set[tuple[str, str]] = set()
_CHECKED = {"requests": 0, "denied": 0}  # authorization requests decided across the session


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--iam-coverage",
        action="store_true",
        help="after a full run, fail if a granted IAM action was never exercised and has no written reason "
        "(asr/iam/unexercised.yaml); the report goes to .iam-coverage.txt",
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker hands its pairs to the controller
        workeroutput["iam_exercised"] = json.dumps(sorted(_EXERCISED))
        workeroutput["iam_checked"] = json.dumps(_CHECKED)
        return
    if not session.config.getoption("--iam-coverage"):
        return
    from asr.iam import coverage
    from asr.iam.roles import LazyRoles

    roles = LazyRoles(ADMIN_ACCOUNT, NAMESPACES[:1]).synthesized.all_roles(ACCOUNT)
    report = coverage.report(roles, _EXERCISED)
    roles_used = {role for role, _ in _EXERCISED if not role.startswith("service:")}
    text = (
        f"IAM requests decided: {_CHECKED['requests']} ({_CHECKED['denied']} denied, each expected by its test); "
        f"{len(_EXERCISED)} distinct (role, action) pairs allowed, over {len(roles_used)} of {len(roles)} roles.\n"
        + report.as_text()
    )
    Path(session.config.rootpath, ".iam-coverage.txt").write_text(text + "\n", encoding="utf-8")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("\n".join(text.splitlines()[:2]))
    if report.unexercised or report.stale_reasons:
        if reporter is not None:
            reporter.write_line(text)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    output = getattr(node, "workeroutput", {}) or {}
    _EXERCISED.update(tuple(pair) for pair in json.loads(output.get("iam_exercised", "[]")))
    for key, value in json.loads(output.get("iam_checked", "{}")).items():
        _CHECKED[key] += value


@pytest.fixture(scope="session")
def iam_roles():
    from asr.iam.roles import LazyRoles

    return LazyRoles(ADMIN_ACCOUNT, NAMESPACES)


@pytest.fixture(autouse=True)
def iam_enforcer(request: pytest.FixtureRequest, iam_roles) -> Iterator[object]:
    if request.node.get_closest_marker("no_iam"):
        yield None
        return
    from asr.iam.enforcer import Enforcer

    parameters: dict[str, str] = {}
    for marker in reversed(list(request.node.iter_markers("stack_parameters"))):  # the closest wins
        parameters.update(marker.kwargs)
    enforcer = Enforcer(iam_roles.with_parameters(parameters) if parameters else iam_roles)
    with enforcer.installed():
        yield enforcer
    _EXERCISED.update(enforcer.exercised())
    _CHECKED["requests"] += len(enforcer.records)
    _CHECKED["denied"] += sum(1 for r in enforcer.records if not r.allowed)
    problems = [f"denied: {d}" for d in enforcer.denials] + [f"not modeled: {m}" for m in enforcer.model_errors]
    if problems:
        pytest.fail("IAM as AWS enforces it:\n" + "\n".join(dict.fromkeys(problems)), pytrace=False)


@pytest.fixture
def as_function(iam_enforcer, iam_roles, monkeypatch: pytest.MonkeyPatch):
    """``as_function(module, "SO0111-ASR-EventProcessor", account)``: the module's ``lambda_handler`` runs
    as that function's execution role (as synthesized), as in AWS, so the enforcer checks its calls."""

    def bind(module, function_name: str, account: str = ACCOUNT) -> None:
        role = iam_roles.function_role(function_name, account)
        real = module.lambda_handler

        def handler(*args, **kwargs):
            with iam_enforcer.acting_as(role):
                return real(*args, **kwargs)

        monkeypatch.setattr(module, "lambda_handler", handler)

    return bind


@pytest.fixture
def as_remediation_role(iam_enforcer):
    """``with as_remediation_role("EnableMacie"):`` -- a script called directly runs as its remediation
    role (``SO0111-<Name>-sim`` in ACCOUNT), as the runner would run it, so its calls are checked too."""
    from asr import solution

    def role(name: str, account: str = ACCOUNT):
        return iam_enforcer.acting_as(f"arn:aws:iam::{account}:role/{solution.remediation_role(name, NAMESPACES[0])}")

    return role
