"""Issue 14, item 2: resolve at IAM's and Step Functions' limits.

* A role name IAM cannot have (longer than 64 characters: the per-control role
  ``SO0111-Remediate-<short>-<version>-<control>`` of a long control id, a RunbookRole, the
  workflow role) is refused as LAMBDA_ERROR naming where the name comes from and the value;
  before, moto answered NoSuchEntity (READY as the member role) and AWS a ValidationError
  (an unnamed LAMBDA_ERROR).
* The one error resolve lets escape (SNS refusing even the minimal notification) is raised
  bounded and ASCII-only, so the state machine's Catch can add it next to a 240 KB finding.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from asr import limits, solution
from asr.simulator.findings import make_finding
from lambdas.orchestrator import resolve
from tests.conftest import ACCOUNT, multi_account_moto
from tests.lambdas.test_orchestrator_resolve import FN, MEMBER, Env, _config_finding, _event
from tests.orchestrator.moto_ext import strict_member_role

pytestmark = pytest.mark.stack_parameters(SecHubAdminAccount=ACCOUNT)

LONG_CONTROL = "Lambda." + "1" * 25  # a control id within Finding.parse's 32 characters


@pytest.fixture(autouse=True)
def _as_the_function(as_function):
    as_function(resolve, solution.RESOLVE_FUNCTION)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    with multi_account_moto(monkeypatch):
        strict_member_role(monkeypatch)
        e = Env()
        monkeypatch.setenv("SNS_TOPIC_ARN", e.topic)
        monkeypatch.delenv("WORKFLOW_RUNBOOK", raising=False)
        yield e


def test_a_per_control_role_name_longer_than_iam_allows_is_named(env: Env):
    env.playbook(long_name="nist-800-53", version="5.0.0", short="NIST80053")
    env.member(runbook=f"ASR-NIST80053_5.0.0_{LONG_CONTROL}")
    role = solution.custom_control_role("NIST80053", "5.0.0", LONG_CONTROL)
    assert len(role) > limits.IAM_ROLE_NAME_CHARS
    finding = make_finding(
        LONG_CONTROL,
        FN,
        resource_type="AwsLambdaFunction",
        standard_name="nist-800-53",
        standard_version="5.0.0",
        account_id=MEMBER,
    )
    event = _event(finding)

    out = resolve.lambda_handler(event, None)

    assert out["Outcome"] == "LAMBDA_ERROR", out
    assert f"ControlId {LONG_CONTROL!r} of the finding" in out["Message"]
    assert f"role name {role!r} ({len(role)} characters) is not an IAM role name" in out["Message"]
    [note] = env.notes()
    assert note["Remediation_Status"] == "LAMBDA_ERROR" and role in note["message"]


@pytest.mark.stack_parameters(CustomRunbookPrefix="My-", CustomRunbookRolePrefix="MyRole")
@pytest.mark.parametrize(
    "role",
    ["MyRole" + "r" * 59, f"arn:aws:iam::{MEMBER}:role/MyRole", "MyR\u00f4le", "MyRole\n"],
    ids=["65-characters", "an-arn", "non-ascii", "trailing-newline"],
)
def test_a_runbook_role_iam_cannot_have_is_named(env: Env, role):
    env.member(runbook="My-Runbook")
    parameter = "/Solutions/SO0111/my-config-rule"
    env.ssm.put_parameter(
        Name=parameter, Type="String", Value=json.dumps({"RunbookName": "My-Runbook", "RunbookRole": role})
    )

    out = resolve.lambda_handler(_event(_config_finding()), None)

    assert out["Outcome"] == "LAMBDA_ERROR", out
    assert out["Message"].startswith(f"parameter {parameter} (RunbookRole): role name {limits.shown(role, 200)}")


def test_the_workflow_role_iam_cannot_have_is_named(env: Env, monkeypatch):
    from lambdas.orchestrator import workflow

    env.playbook()
    env.member()
    monkeypatch.setenv("WORKFLOW_RUNBOOK", "ASR-Approval")
    monkeypatch.setenv("WORKFLOW_RUNBOOK_ROLE", "w" * 65)
    monkeypatch.setattr(workflow, "approval_required", lambda _finding: True)

    out = resolve.lambda_handler(_event(), None)

    assert out["Outcome"] == "LAMBDA_ERROR", out
    assert out["Message"].startswith(f"environment variable WORKFLOW_RUNBOOK_ROLE: role name '{'w' * 65}'")


def test_a_crash_escapes_bounded_and_ascii(env: Env, monkeypatch):
    """SNS refusing the notification and the minimal one, with an error text holding the finding."""
    huge = 'Invalid parameter: Message "\u00e9\u65e5' + "x" * 300_000

    def refuse(*_args, **_kwargs):
        raise RuntimeError(huge)

    monkeypatch.setattr(resolve, "send", refuse)
    monkeypatch.setattr(resolve, "send_minimal", refuse)

    with pytest.raises(resolve.ResolveFailed) as err:
        resolve.lambda_handler(_event(), None)  # no playbook: PLAYBOOK_NOT_ENABLED, then the crash

    text = str(err.value)
    assert text.isascii() and len(text) <= resolve.CRASH_MESSAGE_CHARS
    assert text.startswith('RuntimeError: Invalid parameter: Message "\\xe9\\u65e5xxx')
    assert text.endswith("characters]")
    assert err.value.__cause__ is None and err.value.__suppress_context__
