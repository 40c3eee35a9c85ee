"""What the remediation policy looks up in the orchestrator (issue 18; lambdas/orchestrator/enforce.py):
the account's OUs with Organizations ListParents from the admin account (one cached resolver per warm
container), and the resource's current tags with the Resource Groups Tagging API GetResources in the
member account. The synthesized state machine on moto, every call under the IAM enforcer (the admin
role's conditional organizations:ListParents, the member role's tag:GetResources)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator

import boto3
import pytest

from asr import solution
from asr.iam.enforcer import active
from asr.iam.policy import Policy
from asr.simulator import organizations
from asr.simulator.findings import custom_action_event
from lambdas.orchestrator import enforce
from tests.orchestrator.harness import ADMIN, MEMBER, REGION, Harness
from tests.orchestrator.scenarios import is_public, lambda1_finding, member_with_lambda1
from tests.orchestrator.test_policy_enforcement import (
    COMPILED,
    PARAMETERS,
    PolicyHarness,
    apply,
    auto,
    only,
    records,
    scenario,
    stopped,
)

pytestmark = pytest.mark.stack_parameters(**PARAMETERS)  # the IAM enforcer's view of the deployed stack

MEMBER2 = "222222222222"  # a second member account, in the same OU as MEMBER
MANAGEMENT = "999999999999"  # a management account other than the ASR admin account
MEMBER_ROLE = f"arn:aws:iam::{MEMBER}:role/{solution.ORCHESTRATOR_MEMBER_ROLE}"


@pytest.fixture
def h(moto_admin: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    # every test starts with a cold container: no policy, no OU answers
    monkeypatch.setattr(enforce, "_cache", None)
    monkeypatch.setattr(enforce, "_ou_resolver", None)
    yield PolicyHarness(monkeypatch)
    enforce.clear_cache()


def organizations_of(h: Harness, account: str):
    """An Organizations client acting in ``account`` (the test's own setup: not IAM-checked)."""
    return boto3.client("organizations") if account == ADMIN else h.member(account).client("organizations")


def organization(h: Harness, management: str = ADMIN, members: tuple[str, ...] = (MEMBER,)) -> dict[str, str]:
    """``management``'s organization: root > Workloads > Prod, ``members`` in Prod (two levels under
    Workloads), the other ASR accounts under the root."""
    client = organizations_of(h, management)
    client.create_organization(FeatureSet="ALL")
    root = client.list_roots()["Roots"][0]["Id"]
    workloads = client.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]["Id"]
    prod = client.create_organizational_unit(ParentId=workloads, Name="Prod")["OrganizationalUnit"]["Id"]
    sandbox = client.create_organizational_unit(ParentId=root, Name="Sandbox")["OrganizationalUnit"]["Id"]
    for account in (ADMIN, MEMBER, MEMBER2):
        if account != management:
            organizations.join(account, management)
    for account in members:
        client.move_account(AccountId=account, SourceParentId=root, DestinationParentId=prod)
    return {"root": root, "workloads": workloads, "prod": prod, "sandbox": sandbox}


def calls(action: str) -> list[tuple[str, str, bool]]:
    """(principal, resource, allowed) of every ``action`` request the enforcer checked."""
    enforcer = active()
    assert enforcer is not None
    return [(r.principal, r.resource, r.allowed) for r in enforcer.records if r.action == action]


def list_parents() -> list[tuple[str, str, bool]]:
    return calls("organizations:ListParents")


def admin_role() -> str:
    return f"arn:aws:iam::{ADMIN}:role/{solution.ORCHESTRATOR_ADMIN_ROLE}"


def remediated(h: Harness, result, session) -> None:
    assert result.status == "SUCCEEDED"
    assert [n["Remediation_Status"] for n in h.notifications()] == ["QUEUED", "SUCCESS"]
    assert not is_public(session)


# --- OU scopes ------------------------------------------------------------------------------------


def test_an_account_two_levels_under_an_included_ou_is_in_scope(h: Harness):
    ids = organization(h)
    apply(f"version: 1\nglobal:\n  scope:\n    include: {{ous: [{ids['workloads']}]}}\n")
    session, _, finding = scenario(h)
    remediated(h, h.run(auto(finding)), session)
    # the walk: MEMBER -> Prod -> Workloads -> root, by the admin role, each allowed by its grant
    assert list_parents() == [(admin_role(), "*", True)] * 3


def test_exclude_beats_include_for_nested_ous(h: Harness):
    ids = organization(h)
    apply(
        f"""\
        version: 1
        global:
          scope:
            include: {{ous: [{ids["workloads"]}]}}
            exclude: {{ous: [{ids["prod"]}]}}
        """
    )
    session, _, finding = scenario(h)
    h.run(auto(finding))
    note = stopped(h, session, finding, "OUT_OF_SCOPE")
    assert "global.scope.exclude.ous[0]" in note["message"]
    assert f"account {MEMBER} (in {ids['prod']} < {ids['workloads']} < {ids['root']})" in note["message"]


def test_an_account_outside_the_included_ou_is_out_of_scope(h: Harness):
    ids = organization(h)
    apply(f"version: 1\ncontrols:\n  Lambda.1:\n    scope:\n      include: {{ous: [{ids['sandbox']}]}}\n")
    session, _, finding = scenario(h)
    h.run(auto(finding))
    note = stopped(h, session, finding, "OUT_OF_SCOPE")
    assert "controls.Lambda.1.scope.include.ous" in note["message"] and ids["sandbox"] in note["message"]


def test_the_ou_answers_are_cached_per_warm_container(h: Harness):
    """Two findings of two accounts of the same OU: the first walks three levels, the second asks
    only for its own account's parent; a third finding of the first account asks nothing."""
    ids = organization(h, members=(MEMBER, MEMBER2))
    apply(f"version: 1\nglobal:\n  mode: dry-run\n  scope:\n    include: {{ous: [{ids['workloads']}]}}\n")
    h.install_playbook()
    first, _ = member_with_lambda1(h)
    second, function2 = member_with_lambda1(h, account=MEMBER2)
    finding1 = lambda1_finding(f"arn:aws:lambda:{REGION}:{MEMBER}:function:public-fn")
    finding2 = lambda1_finding(function2, account=MEMBER2)
    for finding, expected in ((finding1, 3), (finding2, 4), (finding1, 4)):
        h.import_finding(finding)
        h.run(auto(finding))
        assert only(h)["Remediation_Status"] == "DRY_RUN"
        assert len(list_parents()) == expected
    assert is_public(first) and is_public(second)


def test_organizations_not_in_use_is_a_lambda_error_naming_the_account_and_rule(h: Harness):
    apply("version: 1\nglobal:\n  scope:\n    include: {ous: [ou-abcd-12345678]}\n")  # no organization at all
    session, _, finding = scenario(h)
    h.run(auto(finding))
    note = only(h)
    assert note["Remediation_Status"] == "LAMBDA_ERROR"
    for text in (
        COMPILED,
        "global.scope.include.ous names OUs",
        f"cannot find the OUs of account {MEMBER}",
        "AWSOrganizationsNotInUseException",
        "management account or a delegated administrator",
        organizations_help(),
        solution.ORCHESTRATOR_ADMIN_ROLE,
    ):
        assert text in note["message"], (text, note["message"])
    assert h.router.started == [] and is_public(session)


def organizations_help() -> str:
    return "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_delegate_policies.html"


def test_a_member_admin_account_is_refused_until_it_is_a_delegated_administrator(h: Harness):
    """The ASR admin account is a member of another account's organization: ListParents is denied
    (AccessDeniedException) until the management account registers it as a delegated administrator."""
    ids = organization(h, management=MANAGEMENT)
    apply(f"version: 1\nglobal:\n  scope:\n    exclude: {{ous: [{ids['sandbox']}]}}\n")
    session, _, finding = scenario(h)
    h.run(auto(finding))
    note = only(h)
    assert note["Remediation_Status"] == "LAMBDA_ERROR"
    for text in ("global.scope.exclude.ous[0] names OUs", f"account {MEMBER}", "AccessDeniedException"):
        assert text in note["message"], (text, note["message"])
    assert h.router.started == [] and is_public(session)

    organizations_of(h, MANAGEMENT).register_delegated_administrator(
        AccountId=ADMIN, ServicePrincipal="guardduty.amazonaws.com"
    )
    h.import_finding(finding)
    remediated(h, h.run(auto(finding)), session)


# --- live tags ------------------------------------------------------------------------------------


def tag(session, function_arn: str, tags: dict[str, str]) -> None:
    session.client("lambda").tag_resource(Resource=function_arn, Tags=tags)


def _tag_exemption(value: str) -> str:
    return f"""\
version: 1
global:
  exemptions:
    - tag: Env={value}
      reason: Production is changed by its own pipeline (CHG-9)
      owner: platform@example.com
      expires: 2099-01-01T00:00:00Z
"""


@pytest.fixture
def decisions() -> Iterator[list[dict]]:
    """The decisions resolve logs ("policy decision", with the decision's JSON)."""
    kept: list[dict] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == "policy decision":
                kept.append(record.data["decision"])  # type: ignore[attr-defined]

    logger, handler = logging.getLogger("lambdas.orchestrator.resolve"), Keep()
    logger.addHandler(handler)
    yield kept
    logger.removeHandler(handler)


def test_the_live_tags_decide_not_the_findings(h: Harness, decisions: list[dict]):
    """The finding says Env=dev, the function is tagged Env=prod now: the exemption of Env=prod
    applies; nothing of the finding's Resources[0].Tags is used."""
    session, function_arn, finding = scenario(h, tags={"Env": "dev"})
    tag(session, function_arn, {"Env": "prod"})
    apply(_tag_exemption("prod"))
    h.run(auto(finding))
    note = stopped(h, session, finding, "EXEMPT")
    assert "tag Env=prod" in note["message"] and "CHG-9" in note["message"]
    assert calls("tag:GetResources") == [(MEMBER_ROLE, "*", True)]
    [decision] = decisions
    assert (decision["outcome"], decision["tags_from"]) == ("EXEMPT", "lookup")


def test_the_live_tags_decide_the_other_way_too(h: Harness):
    """The finding says Env=prod (an exemption would apply), the function is Env=dev now: remediated."""
    session, function_arn, finding = scenario(h, tags={"Env": "prod"})
    tag(session, function_arn, {"Env": "dev"})
    apply(_tag_exemption("prod"))
    remediated(h, h.run(auto(finding)), session)
    assert calls("tag:GetResources") == [(MEMBER_ROLE, "*", True)]


def test_a_scope_tag_rule_on_live_tags(h: Harness):
    session, function_arn, finding = scenario(h, tags={"Env": "dev"})
    tag(session, function_arn, {"Env": "prod", "team": "web"})
    apply("version: 1\nglobal:\n  scope:\n    exclude: {tags: [Env=prod]}\n")
    h.run(auto(finding))
    note = stopped(h, session, finding, "OUT_OF_SCOPE")
    assert "global.scope.exclude.tags[0]" in note["message"] and "Env=prod, team=web" in note["message"]


def test_a_resource_never_tagged_has_no_tags(h: Harness):
    """GetResources leaves out a resource never tagged: no tags, so an exclusion by tag does not
    match and an inclusion by tag does."""
    session, _, finding = scenario(h)  # neither the finding nor the function has tags
    apply("version: 1\nglobal:\n  scope:\n    exclude: {tags: [asr:ignore]}\n")
    remediated(h, h.run(auto(finding)), session)
    assert calls("tag:GetResources") == [(MEMBER_ROLE, "*", True)]

    h.import_finding(finding)
    apply("version: 1\nglobal:\n  scope:\n    include: {tags: [Env]}\n")
    enforce.clear_cache()
    h.run(custom_action_event([finding]))
    note = only(h)
    assert note["Remediation_Status"] == "OUT_OF_SCOPE" and "resource tags (no tags)" in note["message"]


def test_a_resource_the_tagging_api_does_not_list_is_decided_on_the_findings_tags(h: Harness, decisions: list[dict]):
    """Absent from GetResources, yet the finding reports tags: not a resource never tagged (a type the
    Tagging API does not cover, or one deleted). Taking "no tags" could drop an exclusion: the
    finding's tags decide, and the decision says so."""
    session, _, finding = scenario(h, tags={"asr:ignore": "yes"})  # the function itself was never tagged
    apply("version: 1\nglobal:\n  scope:\n    exclude: {tags: [asr:ignore]}\n")
    h.run(auto(finding))
    note = stopped(h, session, finding, "OUT_OF_SCOPE")
    assert "global.scope.exclude.tags[0]" in note["message"] and "asr:ignore=yes" in note["message"]
    assert calls("tag:GetResources") == [(MEMBER_ROLE, "*", True)]
    [decision] = decisions
    assert (decision["outcome"], decision["tags_from"]) == ("OUT_OF_SCOPE", "finding")


def test_a_denied_lookup_is_a_lambda_error_naming_the_resource_code_and_role(
    h: Harness, monkeypatch: pytest.MonkeyPatch
):
    """The member role is denied tag:GetResources (here an explicit Deny the customer added): the
    decision fails closed, naming the resource ARN, the error code and the role."""
    enforcer = active()
    assert enforcer is not None
    roles = enforcer.roles
    deny = Policy.parse(
        "customer:DenyTagging", {"Statement": [{"Effect": "Deny", "Action": "tag:GetResources", "Resource": "*"}]}
    )

    def with_deny(arn: str):
        role = roles(arn)
        return dataclasses.replace(role, policies=(*role.policies, deny)) if arn == MEMBER_ROLE else role

    monkeypatch.setattr(enforcer, "roles", with_deny)
    session, function_arn, finding = scenario(h, tags={"Env": "prod"})
    apply("version: 1\nglobal:\n  scope:\n    exclude: {tags: [Env=prod]}\n")
    with enforcer.expect_denial(lambda d: d.action == "tag:GetResources") as denials:
        h.run(auto(finding))
    assert denials
    note = only(h)
    assert note["Remediation_Status"] == "LAMBDA_ERROR"
    for text in (function_arn, "AccessDenied", MEMBER_ROLE, COMPILED):
        assert text in note["message"], (text, note["message"])
    assert h.router.started == [] and is_public(session)
    [record] = records()
    assert record["Outcome"] == "LAMBDA_ERROR"


def test_tags_are_not_looked_up_when_no_rule_needs_them(h: Harness):
    session, _, finding = scenario(h)
    apply(f'version: 1\nglobal:\n  scope:\n    include: {{accounts: ["{MEMBER}"]}}\n')
    remediated(h, h.run(auto(finding)), session)
    assert calls("tag:GetResources") == [] and list_parents() == []


def _not_an_arn(h: Harness, tags: dict[str, str] | None) -> tuple:
    """A finding whose resource id is a name, not an ARN: GetResources cannot look it up."""
    h.install_playbook()
    session, _ = member_with_lambda1(h)
    finding = lambda1_finding("public-fn")
    if tags is not None:
        finding["Resources"][0]["Tags"] = tags
    h.import_finding(finding)
    return session, finding


def test_a_resource_id_that_is_not_an_arn_is_decided_on_the_findings_tags(h: Harness, decisions: list[dict]):
    session, finding = _not_an_arn(h, {"Env": "prod"})
    apply("version: 1\nglobal:\n  scope:\n    exclude: {tags: [Env=prod]}\n")
    h.run(auto(finding))
    note = stopped(h, session, finding, "OUT_OF_SCOPE")
    assert "Env=prod" in note["message"]
    assert calls("tag:GetResources") == []
    [decision] = decisions
    assert decision["tags_from"] == "finding"


def test_a_resource_id_that_is_not_an_arn_without_finding_tags_fails_closed(h: Harness):
    session, finding = _not_an_arn(h, None)
    apply("version: 1\nglobal:\n  scope:\n    exclude: {tags: [Env=prod]}\n")
    h.run(auto(finding))
    note = only(h)
    assert note["Remediation_Status"] == "LAMBDA_ERROR"
    assert "resource id 'public-fn' is not an ARN" in note["message"] and COMPILED in note["message"]
    assert h.router.started == [] and is_public(session) and calls("tag:GetResources") == []
