"""``Custom::OrgIdLookup``: the AWS Organizations organization id of the admin account.

The admin stack's ``CrossAccountLogWriterRole`` (the Action Log's cross-account writer) trusts
the principals of this organization (``aws:PrincipalOrgID``). Answers, in ``Data``:

* ``OrganizationId``: ``o-...`` from organizations:DescribeOrganization; or ``org-id-unavailable``
  (:data:`UNAVAILABLE`, the reference's sentinel) when the account is in no organization
  (``AWSOrganizationsNotInUseException``) or may not ask (``AccessDeniedException``, e.g. an SCP).
  No principal ever has that organization id (real ids match ``o-[a-z0-9]{10,32}``), so the
  trust statement on it admits nobody: the role then trusts only the admin account itself.
* ``Status``: one sentence for the stack output, saying whether the Action Log can receive
  from other accounts, and why not.

https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeOrganization.html
(any account of an organization may call it; the errors above are its documented ones).

Delete never fails (nothing was created). Properties: none are needed; ``Version`` (the solution
version) only makes every stack update ask again, so joining an organization later is picked up
by the next update. ``PhysicalResourceId`` is the organization id too (the admin template reads it
with ``Ref``). The answer is PUT to the pre-signed ``ResponseURL``
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html); no CDK
provider framework, standard library and boto3 only.
"""

from __future__ import annotations

import logging
from typing import Any

import boto3
from botocore.exceptions import ClientError

from asr import solution
from lambdas.cfn_response import respond, response_body  # noqa: F401 (response_body: tests)

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

UNAVAILABLE = "org-id-unavailable"
#: DescribeOrganization errors that mean "no organization to trust": degrade, do not fail the stack.
NOT_IN_USE = "AWSOrganizationsNotInUseException"
DENIED = frozenset({"AccessDeniedException", "AccessDenied"})
ROLE = solution.CROSS_ACCOUNT_LOG_WRITER_ROLE


def lookup(organizations: Any) -> dict[str, str]:
    """``{"OrganizationId", "Status"}``; raises on errors that are not "no organization"."""
    try:
        org = organizations.describe_organization()["Organization"]
    except ClientError as err:
        error = err.response.get("Error", {})
        code = str(error.get("Code", ""))
        if code == NOT_IN_USE:
            why = "this account is not a member of an organization in AWS Organizations"
        elif code in DENIED:
            why = f"organizations:DescribeOrganization was denied ({code}: {error.get('Message', '')})"
        else:
            raise
        logger.warning("no organization id (%s): the Action Log accepts only this account", code)
        return {
            "OrganizationId": UNAVAILABLE,
            "Status": (
                f"The Action Log cannot receive from other accounts: {why}. {ROLE} trusts only this account. "
                "Join (or allow DescribeOrganization in) an organization, then update this stack."
            ),
        }
    org_id = org.get("Id")
    if not isinstance(org_id, str) or not org_id.startswith("o-"):
        raise ValueError(f"DescribeOrganization returned Organization.Id {org_id!r}, not an organization id")
    return {
        "OrganizationId": org_id,
        "Status": f"The Action Log receives from the accounts of organization {org_id} ({ROLE}, aws:PrincipalOrgID).",
    }


def handle(event: dict[str, Any], organizations: Any) -> tuple[str, str, dict[str, str]]:
    kind = event.get("RequestType")
    if kind == "Delete":
        return "SUCCESS", event.get("PhysicalResourceId") or UNAVAILABLE, {}
    if kind not in ("Create", "Update"):
        raise ValueError(f"RequestType must be Create, Update or Delete, got {kind!r}")
    data = lookup(organizations)
    # the id itself, which the template reads with Ref: a new organization is a new physical resource
    # (CloudFormation then deletes the old one: a no-op)
    return "SUCCESS", data["OrganizationId"], data


def lambda_handler(event: dict[str, Any], _context: Any, organizations: Any = None) -> None:
    physical_id = event.get("PhysicalResourceId") or UNAVAILABLE
    try:
        status, physical_id, data = handle(event, organizations or boto3.client("organizations"))
        respond(event, status, physical_id, data=data)
    except Exception as err:
        logger.exception("organization id lookup failed")
        # a Delete must never leave the stack stuck in DELETE_FAILED
        status = "SUCCESS" if event.get("RequestType") == "Delete" else "FAILED"
        respond(event, status, physical_id, reason=f"{type(err).__name__}: {err}")
