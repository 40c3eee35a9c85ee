"""The OUs of an account through AWS Organizations, on moto: nested OUs, the cache, the errors."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from asr.policy import evaluate as ev
from asr.policy import orgs
from tests.policy.conftest import NOW, facts, policy


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def org():
    """root > Workloads > Prod > Payments (account in Payments), and Sandbox (account in it)."""
    with mock_aws():
        client = boto3.client("organizations", region_name="us-east-1")
        client.create_organization(FeatureSet="ALL")
        root = client.list_roots()["Roots"][0]["Id"]

        def ou(parent: str, name: str) -> str:
            return client.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]["Id"]

        def account(name: str, parent: str) -> str:
            status = client.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
            client.move_account(AccountId=status["AccountId"], SourceParentId=root, DestinationParentId=parent)
            return status["AccountId"]

        workloads = ou(root, "Workloads")
        prod = ou(workloads, "Prod")
        payments = ou(prod, "Payments")
        sandbox = ou(root, "Sandbox")
        ids = {
            "root": root,
            "workloads": workloads,
            "prod": prod,
            "payments": payments,
            "sandbox": sandbox,
            "pay_account": account("pay", payments),
            "pay_account2": account("pay2", payments),
            "sandbox_account": account("sbx", sandbox),
        }
        yield client, ids


def test_nested_ous_walk_to_the_root(org):
    client, ids = org
    resolver = orgs.OuResolver(client)
    assert resolver(ids["pay_account"]) == (ids["payments"], ids["prod"], ids["workloads"], ids["root"])
    assert resolver(ids["sandbox_account"]) == (ids["sandbox"], ids["root"])


def test_policy_on_nested_ous(org):
    client, ids = org
    p = policy(
        f"""\
        version: 1
        global:
          mode: dry-run
        controls:
          S3.2:
            mode: auto
            scope:
              include: {{ous: [{ids["workloads"]}]}}
              exclude: {{ous: [{ids["payments"]}]}}
        """
    )
    resolver = orgs.OuResolver(client)
    d = ev.decide(p, facts(account=ids["pay_account"]), now=NOW, ou_resolver=resolver)
    assert (d.outcome, d.rule) == (ev.OUT_OF_SCOPE, "controls.S3.2.scope.exclude.ous[0]")
    d = ev.decide(p, facts(account=ids["sandbox_account"]), now=NOW, ou_resolver=resolver)
    assert (d.outcome, d.rule) == (ev.OUT_OF_SCOPE, "controls.S3.2.scope.include.ous")
    # an account moved from Payments up to Prod: in Workloads, not in Payments
    client.move_account(AccountId=ids["pay_account2"], SourceParentId=ids["payments"], DestinationParentId=ids["prod"])
    d = ev.decide(p, facts(account=ids["pay_account2"]), now=NOW, ou_resolver=orgs.OuResolver(client))
    assert d.outcome == ev.PROCEED and d.ous == (ids["prod"], ids["workloads"], ids["root"])


def test_cache_cold_warm_shared_and_ttl(org):
    client, ids = org
    clock = Clock()
    resolver = orgs.OuResolver(client, ttl_seconds=60, clock=clock)
    resolver(ids["pay_account"])
    assert resolver.calls == 4  # cold: one ListParents per level
    resolver(ids["pay_account"])
    assert resolver.calls == 4  # warm: none
    resolver(ids["pay_account2"])
    assert resolver.calls == 5  # same OU: only the account's own parent
    clock.now += 61
    client.move_account(
        AccountId=ids["pay_account"], SourceParentId=ids["payments"], DestinationParentId=ids["sandbox"]
    )
    assert resolver(ids["pay_account"]) == (ids["sandbox"], ids["root"])  # the move is seen after the TTL
    assert resolver.calls == 7


def test_account_not_in_the_organization(org):
    client, _ = org
    with pytest.raises(orgs.OuResolutionError, match="account 999999999999: Organizations does not know 999999999999"):
        orgs.OuResolver(client)("999999999999")


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("AccessDeniedException", ["account 333333333333", "management account or a delegated administrator"]),
        ("AWSOrganizationsNotInUseException", ["account 333333333333", "not in an organization"]),
    ],
)
def test_not_the_management_account_or_no_organization(code, words):
    # moto 5.2 answers every caller (no management-account check) and reports a missing
    # organization as AccountNotFoundException: the errors AWS returns are stubbed, with the
    # real operation shape (https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListParents.html).
    client = boto3.client("organizations", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("list_parents", service_error_code=code, expected_params={"ChildId": "333333333333"})
        with pytest.raises(orgs.OuResolutionError) as info:
            orgs.OuResolver(client)("333333333333")
    for word in words:
        assert word in str(info.value)


def test_static_ou_map(tmp_path):
    path = tmp_path / "ous.yaml"
    path.write_text('"111111111111": ou-ab12-child111\nou-ab12-child111: ou-ab12-parent11\nou-ab12-parent11: r-ab12\n')
    resolver = orgs.StaticOuResolver.load(path)
    assert resolver("111111111111") == ("ou-ab12-child111", "ou-ab12-parent11", "r-ab12")
    with pytest.raises(orgs.OuResolutionError, match="222222222222 is not in the OU map"):
        resolver("222222222222")
    path.write_text('"111111111111": nope\n')
    with pytest.raises(orgs.doc.PolicyError, match="must be an OU or root id"):
        orgs.StaticOuResolver.load(path)
    loop = orgs.StaticOuResolver({"111111111111": "ou-ab12-aaaaaaaa", "ou-ab12-aaaaaaaa": "ou-ab12-aaaaaaaa"})
    with pytest.raises(orgs.OuResolutionError, match="loops"):
        loop("111111111111")
