"""AWS Organizations ListParents as AWS authorizes and answers it; moto 5.2 answers any caller from
the caller's own backend, so a member account (delegated administrator or not) sees no organization,
an account in no organization gets AccountNotFoundException, and an unknown child gets
AccountNotFoundException / OrganizationalUnitNotFoundException. moto also keeps its member ->
management map across resets, so CreateOrganization refuses an account that was a member in an
earlier test: an entry whose organization is gone is ignored (CreateOrganization, ListParents).

AWS Organizations API Reference, ListParents
(https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListParents.html):

* "can be called only from the organization's management account or by a member account that is a
  delegated administrator" (for an AWS service: RegisterDelegatedAdministrator "grants read-only
  access to Organizations service data",
  https://docs.aws.amazon.com/organizations/latest/APIReference/API_RegisterDelegatedAdministrator.html);
  any other member account gets AccessDeniedException;
* an account in no organization gets AWSOrganizationsNotInUseException ("Your account is not a
  member of an organization");
* ChildId is an account (12 digits) or an OU (``ou-`` 4-32 lowercase letters or digits, ``-``, 8-32
  more), never a root ("Don't specify a root"): anything else is InvalidInputException; a child the
  organization does not hold is ChildNotFoundException ("We can't find an organizational unit (OU)
  or AWS account with the ChildId that you specified").

A delegated administrator is answered from the management account's organization, exactly as the
management account would be.
"""

from __future__ import annotations

import re
from typing import Any

from moto.organizations.exceptions import (
    AWSOrganizationsNotInUseException,
    InvalidInputException,
    OrganizationsClientError,
)
from moto.organizations.models import OrganizationsBackend, organizations_backends

from asr.simulator.emulation import extends

CHILD_ID = re.compile(r"[0-9]{12}|ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}", re.ASCII)


class AccessDeniedException(OrganizationsClientError):
    def __init__(self) -> None:
        super().__init__("AccessDeniedException", "You don't have permissions to access this resource.")


class ChildNotFoundException(OrganizationsClientError):
    def __init__(self) -> None:
        super().__init__(
            "ChildNotFoundException",
            "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.",
        )


def member_of(account_id: str) -> OrganizationsBackend | None:
    """The backend of the management account whose organization holds ``account_id`` as a member.

    moto keeps its member -> management map (filled by CreateAccount, and by
    ``asr.simulator.organizations.join``) across resets: an entry whose organization is gone, or no
    longer holds the account, is stale and means no organization."""
    owner = organizations_backends.master_accounts.get(account_id)
    if owner is None:
        return None
    management = organizations_backends[owner[0]][owner[1]]
    if management.org is None or not any(a.id == account_id for a in management.accounts):
        return None
    return management


def organization_backend(caller: OrganizationsBackend) -> OrganizationsBackend:
    """The backend holding the organization ``caller`` may read: its own (management account), the
    management account's (a delegated administrator); the errors AWS gives anyone else."""
    if caller.org is not None:
        return caller
    management = member_of(caller.account_id)
    if management is None:
        raise AWSOrganizationsNotInUseException
    if not any(admin.account.id == caller.account_id and admin.services for admin in management.admins):
        raise AccessDeniedException
    return management


_moto_create_organization = OrganizationsBackend.create_organization


@extends(OrganizationsBackend, replaces=True)
def create_organization(self: OrganizationsBackend, region: str, **kwargs: Any) -> dict[str, Any]:
    """moto refuses an account its stale member -> management map still lists (AlreadyInOrganization
    after a reset); an account in no organization may create one
    (https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateOrganization.html)."""
    if member_of(self.account_id) is None:
        organizations_backends.master_accounts.pop(self.account_id, None)
    return _moto_create_organization(self, region, **kwargs)


@extends(OrganizationsBackend, replaces=True)
def list_parents(self: OrganizationsBackend, **kwargs: Any) -> dict[str, Any]:
    backend = organization_backend(self)
    child_id = kwargs.get("ChildId")
    if not isinstance(child_id, str) or not CHILD_ID.fullmatch(child_id):
        raise InvalidInputException("You provided a value that does not match the required pattern.")
    if child_id.startswith("ou-"):
        child: Any = next((ou for ou in backend.ou if ou.id == child_id), None)
    else:
        child = next((account for account in backend.accounts if account.id == child_id), None)
    if child is None:
        raise ChildNotFoundException
    return {"Parents": [{"Id": ou.id, "Type": ou.type} for ou in backend.ou if ou.id == child.parent_id]}
