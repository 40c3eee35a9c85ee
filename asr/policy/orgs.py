"""Which OUs an account is in: AWS Organizations ListParents, walked up to the root, cached.

ListParents "can be called only from the organization's management account or by a member
account that is a delegated administrator"; "a child can have only a single parent"; ChildId is
an account (12 digits) or an OU, never a root.
https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListParents.html

The cache keeps each child -> parent answer for ``ttl_seconds`` (an account moved between OUs
is seen within that time), so the accounts of one OU share the walk above it: a cold cache
costs one call per level, a warm one none.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from asr.policy import document as doc

DEFAULT_TTL_SECONDS = 300
#: OUs nest at most five levels under the root
#: (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html);
#: a longer walk means a loop in the answers.
MAX_LEVELS = 8

_NOT_ADMIN = ("AccessDeniedException", "AccessDenied")
_NOT_IN_ORG = ("AWSOrganizationsNotInUseException",)
_UNKNOWN_CHILD = ("ChildNotFoundException", "AccountNotFoundException")


class OuResolutionError(RuntimeError):
    """The OUs of an account cannot be found; the message names the account and why."""


class OuResolver:
    """``resolver(account)`` -> (parent OU, its parent, ..., root id), through Organizations."""

    def __init__(
        self,
        client: Any,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client, self._ttl, self._clock = client, ttl_seconds, clock
        self._parents: dict[str, tuple[float, str]] = {}  # child -> (expiry, parent id)
        self.calls = 0  # ListParents requests made

    def _parent(self, child: str, account: str) -> str:
        now = self._clock()
        hit = self._parents.get(child)
        if hit is not None and hit[0] > now:
            return hit[1]
        self.calls += 1
        try:
            parents = self._client.list_parents(ChildId=child)["Parents"]
        except ClientError as err:
            raise _explain(err, child, account) from None
        if not parents:
            raise OuResolutionError(f"Organizations ListParents of {child} (account {account}) returned no parent")
        parent = parents[0]["Id"]
        self._parents[child] = (now + self._ttl, parent)
        return parent

    def __call__(self, account: str) -> tuple[str, ...]:
        chain: list[str] = []
        child = account
        for _ in range(MAX_LEVELS):
            parent = self._parent(child, account)
            chain.append(parent)
            if parent.startswith("r-"):
                return tuple(chain)
            child = parent
        raise OuResolutionError(f"account {account}: more than {MAX_LEVELS} levels of OUs ({' < '.join(chain)})")

    def clear(self) -> None:
        self._parents.clear()


#: What makes an account able to call ListParents: being the management account, or a member that
#: is a delegated administrator (RegisterDelegatedAdministrator "grants read-only access to
#: Organizations service data"), or one the organization's resource-based delegation policy allows
#: organizations:ListParents.
#: https://docs.aws.amazon.com/organizations/latest/APIReference/API_RegisterDelegatedAdministrator.html
DELEGATION_HELP = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_delegate_policies.html"
_WHAT_TO_DO = (
    "The ASR admin account must be the organization's management account or a delegated administrator "
    f"(or be delegated organizations:ListParents: {DELEGATION_HELP})"
)


def _explain(err: ClientError, child: str, account: str) -> OuResolutionError:
    code = err.response.get("Error", {}).get("Code", "")
    if code in _NOT_ADMIN:
        return OuResolutionError(
            f"cannot find the OUs of account {account}: Organizations ListParents was denied ({code}). "
            f"{_WHAT_TO_DO}, and its role must allow organizations:ListParents."
        )
    if code in _NOT_IN_ORG:
        return OuResolutionError(
            f"cannot find the OUs of account {account}: the calling account is not in an organization "
            f"({code}); a policy with OU scopes needs AWS Organizations. {_WHAT_TO_DO}."
        )
    if code in _UNKNOWN_CHILD:
        return OuResolutionError(
            f"cannot find the OUs of account {account}: Organizations does not know {child} ({code}); the account "
            "is not in the organization: add it, or scope it by account id instead of OU."
        )
    return OuResolutionError(f"cannot find the OUs of account {account}: ListParents of {child} failed: {err}")


class StaticOuResolver:
    """OUs from a map child -> parent (accounts and OUs), as ListParents would answer: the
    ``--ou-map`` of ``asr policy check``. A root is any ``r-`` id."""

    def __init__(self, parents: Mapping[str, str]) -> None:
        self.parents = dict(parents)
        self.calls = 0

    def __call__(self, account: str) -> tuple[str, ...]:
        self.calls += 1
        if account not in self.parents:
            raise OuResolutionError(f"account {account} is not in the OU map: its OUs are unknown")
        chain: list[str] = []
        child = account
        while child in self.parents:
            child = self.parents[child]
            if child in chain or len(chain) >= MAX_LEVELS:
                raise OuResolutionError(f"the OU map loops or nests too deep above account {account}: {chain}")
            chain.append(child)
        return tuple(chain)

    @classmethod
    def load(cls, path: str | Path) -> StaticOuResolver:
        """A YAML or JSON file ``{child: parent}`` (12-digit account or OU id -> OU or root id)."""
        source = f"OU map {path}"
        try:
            data = Path(path).read_bytes()
        except OSError as err:
            raise doc.PolicyError(
                [doc.Issue("(document)", str(path), f"cannot be read: {err.strerror}")], source
            ) from None
        raw = doc.parse_yaml(data, source)
        if not isinstance(raw, dict):
            raise doc.PolicyError(
                [doc.Issue("(document)", raw, "must map each account or OU id to its parent")], source
            )
        parents: dict[str, str] = {}
        for child, parent in raw.items():
            path_ = doc.child("", child)
            if not (doc.ACCOUNT_RE.fullmatch(child) or doc.OU_RE.fullmatch(child)) or child.startswith("r-"):
                raise doc.PolicyError([doc.Issue(path_, child, "is not an account or OU id")], source)
            if not isinstance(parent, str) or not doc.OU_RE.fullmatch(parent):
                raise doc.PolicyError([doc.Issue(path_, parent, "must be an OU or root id")], source)
            parents[child] = parent
        return cls(parents)

    def to_json(self) -> str:
        return json.dumps(self.parents, indent=2, sort_keys=True)
