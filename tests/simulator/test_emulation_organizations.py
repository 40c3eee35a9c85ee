"""asr/simulator/emulation/organizations.py through boto3 under moto: ListParents answers the
management account and a delegated administrator from the organization, refuses another member
(AccessDeniedException) and an account in no organization (AWSOrganizationsNotInUseException), and
names an unknown child ChildNotFoundException; asr.simulator.organizations.join puts a fixed account
id into an organization."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from asr.simulator import organizations
from tests.conftest import REGION, multi_account_moto

MANAGEMENT = "999999999999"
ADMIN = "123456789012"  # the caller of multi_account_moto
MEMBER = "111111111111"


def client_of(account: str):
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/caller", RoleSessionName="caller"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    ).client("organizations")


@pytest.fixture
def org(monkeypatch: pytest.MonkeyPatch):
    """MANAGEMENT's organization: root > Workloads > Prod (MEMBER), ADMIN under the root."""
    with multi_account_moto(monkeypatch, account=ADMIN):
        mgmt = client_of(MANAGEMENT)
        mgmt.create_organization(FeatureSet="ALL")
        root = mgmt.list_roots()["Roots"][0]["Id"]
        workloads = mgmt.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]["Id"]
        prod = mgmt.create_organizational_unit(ParentId=workloads, Name="Prod")["OrganizationalUnit"]["Id"]
        organizations.join(MEMBER, MANAGEMENT)
        organizations.join(ADMIN, MANAGEMENT)
        mgmt.move_account(AccountId=MEMBER, SourceParentId=root, DestinationParentId=prod)
        yield mgmt, {"root": root, "workloads": workloads, "prod": prod}


def code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return err.value.response["Error"]["Code"]


def test_the_management_account_walks_a_fixed_member_up_to_the_root(org):
    mgmt, ids = org
    assert mgmt.list_parents(ChildId=MEMBER)["Parents"] == [{"Id": ids["prod"], "Type": "ORGANIZATIONAL_UNIT"}]
    assert mgmt.list_parents(ChildId=ids["prod"])["Parents"] == [
        {"Id": ids["workloads"], "Type": "ORGANIZATIONAL_UNIT"}
    ]
    assert mgmt.list_parents(ChildId=ids["workloads"])["Parents"] == [{"Id": ids["root"], "Type": "ROOT"}]
    joined = {a["Id"]: a for a in mgmt.list_accounts()["Accounts"]}
    assert joined[MEMBER]["JoinedMethod"] == "INVITED" and joined[MEMBER]["Status"] == "ACTIVE"
    # every account of the organization sees it as its organization
    org_id = mgmt.describe_organization()["Organization"]["Id"]
    assert client_of(MEMBER).describe_organization()["Organization"]["Id"] == org_id


def test_a_member_account_is_refused_until_it_is_a_delegated_administrator(org):
    mgmt, ids = org
    admin = boto3.client("organizations", region_name=REGION)  # the caller: ADMIN, a member
    with pytest.raises(ClientError) as err:
        admin.list_parents(ChildId=MEMBER)
    assert code(err) == "AccessDeniedException"
    mgmt.register_delegated_administrator(AccountId=ADMIN, ServicePrincipal="guardduty.amazonaws.com")
    assert admin.list_parents(ChildId=MEMBER)["Parents"] == [{"Id": ids["prod"], "Type": "ORGANIZATIONAL_UNIT"}]
    mgmt.deregister_delegated_administrator(AccountId=ADMIN, ServicePrincipal="guardduty.amazonaws.com")
    with pytest.raises(ClientError) as err:
        admin.list_parents(ChildId=MEMBER)
    assert code(err) == "AccessDeniedException"


def test_an_account_in_no_organization_is_told_so(monkeypatch: pytest.MonkeyPatch):
    with multi_account_moto(monkeypatch, account=ADMIN):
        with pytest.raises(ClientError) as err:
            boto3.client("organizations", region_name=REGION).list_parents(ChildId=MEMBER)
        assert code(err) == "AWSOrganizationsNotInUseException"


@pytest.mark.parametrize(
    ("child", "expected"),
    [
        ("222222222222", "ChildNotFoundException"),
        ("ou-abcd-12345678", "ChildNotFoundException"),
        ("r-abcd", "InvalidInputException"),  # "Don't specify a root"
        ("11111111111", "InvalidInputException"),
    ],
)
def test_an_unknown_or_invalid_child(org, child, expected):
    mgmt, _ = org
    with pytest.raises(ClientError) as err:
        mgmt.list_parents(ChildId=child)
    assert code(err) == expected


def test_join_refuses_a_bad_id_no_organization_and_a_second_join(org):
    with pytest.raises(organizations.OrganizationSetupError, match="account_id '1234' is not a 12-digit"):
        organizations.join("1234", MANAGEMENT)
    with pytest.raises(organizations.OrganizationSetupError, match="management_account 444444444444: has no"):
        organizations.join("555555555555", "444444444444")
    with pytest.raises(organizations.OrganizationSetupError, match=f"account_id {MEMBER} is already"):
        organizations.join(MEMBER, MANAGEMENT)
    with pytest.raises(organizations.OrganizationSetupError, match=f"account_id {MANAGEMENT} is already"):
        organizations.join(MANAGEMENT, MANAGEMENT)


def test_a_former_member_may_create_an_organization_after_a_reset(monkeypatch: pytest.MonkeyPatch):
    """moto keeps its member -> management map across resets: without the emulation, ADMIN (a member in
    one moto session) would be AlreadyInOrganization in the next one."""
    with multi_account_moto(monkeypatch, account=ADMIN):
        client_of(MANAGEMENT).create_organization(FeatureSet="ALL")
        organizations.join(ADMIN, MANAGEMENT)
        assert boto3.client("organizations", region_name=REGION).describe_organization()["Organization"]
    with multi_account_moto(monkeypatch, account=ADMIN):
        client = boto3.client("organizations", region_name=REGION)
        with pytest.raises(ClientError) as err:
            client.list_parents(ChildId=MEMBER)
        assert code(err) == "AWSOrganizationsNotInUseException"
        assert client.create_organization(FeatureSet="ALL")["Organization"]["MasterAccountId"] == ADMIN
