"""An existing account, with the id the simulation already uses, joined to a moto organization.

In AWS an existing account joins by InviteAccountToOrganization and AcceptHandshake
(https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_invites.html); moto
5.2 has neither, and its CreateAccount draws a random id. The member accounts of the simulation
(the orchestrator's 111111111111 ...) are fixed, so ``join`` puts them into the management
account's organization directly, as an accepted invitation leaves them: under the root, with the
organization's default policies attached, known to every account as a member of that organization.
Then MoveAccount (moto's, unchanged) places it in an OU.
"""

from __future__ import annotations

from moto.organizations import utils
from moto.organizations.models import FakeAccount, organizations_backends

from asr.policy.document import ACCOUNT_RE
from asr.simulator.emulation.organizations import member_of


class OrganizationSetupError(ValueError):
    """The account cannot join: a bad id, no organization, or already a member."""


def join(account_id: str, management_account: str, *, partition: str = "aws", name: str | None = None) -> None:
    """Make ``account_id`` a member of the organization ``management_account`` created."""
    if not isinstance(account_id, str) or not ACCOUNT_RE.fullmatch(account_id):
        raise OrganizationSetupError(f"account_id {account_id!r} is not a 12-digit account id")
    backend = organizations_backends[management_account][partition]
    if backend.org is None:
        raise OrganizationSetupError(
            f"management_account {management_account}: has no organization (call CreateOrganization first)"
        )
    own = organizations_backends[account_id][partition].org is not None  # manages an organization itself
    if own or member_of(account_id) is not None or account_id in {a.id for a in backend.accounts}:
        raise OrganizationSetupError(f"account_id {account_id} is already in an organization")
    label = name or f"account-{account_id}"
    account = FakeAccount(backend.org, AccountName=label, Email=f"{label}@example.com")
    account.id = account_id
    account.joined_method = "INVITED"
    backend.accounts.append(account)
    for policy_id in (utils.DEFAULT_SCP_POLICY_ID, utils.DEFAULT_RCP_POLICY_ID):
        backend.attach_policy(PolicyId=policy_id, TargetId=account_id)
    organizations_backends.master_accounts[account_id] = (management_account, partition)
