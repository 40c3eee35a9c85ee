"""The roles the enforcer checks: ours from the synthesized templates, others from the emulation.

``SynthesizedRoles`` answers "which role is this ARN?" for any account: it resolves the
templates' roles for that account on first use (each template with its parameters,
e.g. several Namespace values), so one instance serves a multi-account run. A role that
is not in our templates but exists in the emulated IAM with policies (a customer's own
runbook role) is read from there. Anything else is the harness's and is not checked.
"""

from __future__ import annotations

import functools
import json
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from asr import solution
from asr.iam.policy import Policy
from asr.iam.template import Location, Resolver, Role, roles_of


@dataclass
class TemplateSource:
    name: str
    template: Mapping[str, Any]
    #: parameter sets to resolve the template with (e.g. one per Namespace in use)
    parameter_sets: Sequence[Mapping[str, str]] = ({},)
    physical: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


class SynthesizedRoles:
    def __init__(self, sources: Sequence[TemplateSource], *, region: str = "us-east-1", emulated_iam: bool = True):
        self.sources = list(sources)
        self.region = region
        self.emulated_iam = emulated_iam
        self._by_account: dict[tuple[str, str], dict[str, Role]] = {}
        self._lock = threading.Lock()

    def source(self, name: str) -> TemplateSource:
        return next(s for s in self.sources if s.name == name)

    def set_physical(self, name: str, physical: Mapping[str, Mapping[str, str]]) -> None:
        """Tell the resolver the physical ids a harness gave a template's resources."""
        self.source(name).physical = physical
        with self._lock:
            self._by_account.clear()

    def roles(self, account: str, partition: str = "aws") -> dict[str, Role]:
        """Role ARN -> Role for every role our templates define in ``account``."""
        key = (account, partition)
        with self._lock:
            if key not in self._by_account:
                found: dict[str, Role] = {}
                for source in self.sources:
                    for parameters in source.parameter_sets:
                        resolver = Resolver(
                            source.template, Location(account, self.region, partition), parameters, source.physical
                        )
                        for role in roles_of(resolver, source.name).values():
                            found.setdefault(role.arn, role)  # the first parameter set wins
                self._by_account[key] = found
            return self._by_account[key]

    def __call__(self, arn: str) -> Role | None:
        parts = arn.split(":")
        if len(parts) < 6 or parts[2] != "iam":
            return None
        role = self.roles(parts[4], parts[1]).get(arn)
        if role is None and self.emulated_iam:
            role = _emulated(arn)
        return role

    def all_roles(self, account: str) -> list[Role]:
        return list(self.roles(account).values())

    def function_role(self, function_name: str, account: str, partition: str = "aws") -> str:
        """ARN of the execution role the templates give the Lambda function ``function_name``."""
        for source in self.sources:
            resolver = Resolver(
                source.template, Location(account, self.region, partition), source.parameter_sets[0], source.physical
            )
            for res in source.template.get("Resources", {}).values():
                props = res.get("Properties") or {}
                if (
                    res["Type"] == "AWS::Lambda::Function"
                    and resolver.value(props.get("FunctionName")) == function_name
                ):
                    return str(resolver.value(props["Role"]))
        raise KeyError(f"no Lambda function {function_name!r} in the synthesized templates")


def _emulated(arn: str) -> Role | None:
    """A role of the emulated IAM (moto) with at least one policy, as a Role."""
    try:
        from moto.iam.models import iam_backends
    except ImportError:  # pragma: no cover
        return None
    parts = arn.split(":")
    account, partition = parts[4], parts[1]
    try:
        backend = iam_backends[account][partition]
        role = backend.get_role_by_arn(arn)
    except Exception:
        return None
    policies = [Policy.parse(f"emulated:{role.name}/{name}", _doc(doc)) for name, doc in role.policies.items()]
    for managed in role.managed_policies.values():
        policies.append(Policy.parse(f"emulated:{role.name}/{managed.name}", _doc(managed.document)))
    if not policies:
        return None
    return Role(
        arn=arn,
        name=role.name,
        account=account,
        policies=tuple(policies),
        trust=Policy.parse(f"emulated:{role.name}/trust", _doc(role.assume_role_policy_document)),
        source=f"emulated IAM role {role.name}",
    )


def _doc(document: Any) -> Mapping[str, Any]:
    if isinstance(document, str):
        return json.loads(unquote(document))
    return document


@functools.cache
def synthesized_templates() -> dict[str, dict[str, Any]]:
    """The templates that define roles, synthesized in-process (member-roles, admin, member CloudTrail)."""
    import aws_cdk as cdk

    from asr import solution
    from asr.admin.stack import AdminStack
    from asr.app import APP_CONTEXT
    from asr.blueprints.stack import BLUEPRINTS, BlueprintStack
    from asr.cdk_common import Distribution
    from asr.member.cloudtrail import MemberCloudTrailStack
    from asr.member_roles.stack import MemberRolesStack
    from asr.playbooks.data import standards

    out = Path(tempfile.mkdtemp(prefix="asr-iam-"))
    app = cdk.App(outdir=str(out), context=APP_CONTEXT, analytics_reporting=False)
    dist = Distribution()
    stacks = [
        MemberRolesStack(app, dist=dist),
        AdminStack(app, dist=dist, standards=standards()),
        MemberCloudTrailStack(app, dist=dist),
        *(BlueprintStack(app, dist=dist, blueprint=b) for b in BLUEPRINTS),
    ]
    app.synth()
    return {
        solution.TEMPLATE_FILES.get(s.stack_name, s.stack_name): json.loads(
            (out / f"{s.stack_name}.template.json").read_text()
        )
        for s in stacks
    }


class LazyRoles:
    """``SynthesizedRoles`` over our templates, synthesized on the first question asked of it."""

    def __init__(self, admin_account: str, namespaces: Sequence[str]) -> None:
        self.admin_account = admin_account
        self.namespaces = tuple(namespaces)
        self._roles: SynthesizedRoles | None = None
        self._variants: dict[tuple[tuple[str, str], ...], SynthesizedRoles] = {}
        self._lock = threading.Lock()

    @property
    def synthesized(self) -> SynthesizedRoles:
        with self._lock:
            if self._roles is None:
                sources = []
                for name, template in synthesized_templates().items():
                    params = template.get("Parameters", {})
                    base = {"SecHubAdminAccount": self.admin_account} if "SecHubAdminAccount" in params else {}
                    if "SecretArn" in params:  # a ticketing blueprint's credentials secret (tests re-deploy theirs)
                        base["SecretArn"] = (
                            f"arn:aws:secretsmanager:us-east-1:{self.admin_account}:secret:asr-ticketing-AbCdEf"
                        )
                    if "LogWriterRoleArn" in params:
                        base["LogWriterRoleArn"] = (
                            f"arn:aws:iam::{self.admin_account}:role/{solution.CROSS_ACCOUNT_LOG_WRITER_ROLE}"
                        )
                    sets = [{**base, "Namespace": ns} for ns in self.namespaces] if "Namespace" in params else [base]
                    sources.append(TemplateSource(name, template, sets))
                self._roles = SynthesizedRoles(sources)
            return self._roles

    def __call__(self, arn: str) -> Role | None:
        return self.synthesized(arn)

    def function_role(self, function_name: str, account: str) -> str:
        return self.synthesized.function_role(function_name, account)

    def with_parameters(self, extra: Mapping[str, str]) -> SynthesizedRoles:
        """The same templates, deployed with ``extra`` stack parameters where a template has them."""
        key = tuple(sorted(extra.items()))
        with self._lock:
            cached = self._variants.get(key)
        if cached is not None:
            return cached
        sources = [
            TemplateSource(
                s.name,
                s.template,
                [
                    {**p, **{k: v for k, v in extra.items() if k in s.template.get("Parameters", {})}}
                    for p in s.parameter_sets
                ],
            )
            for s in self.synthesized.sources
        ]
        roles = SynthesizedRoles(sources)
        with self._lock:
            self._variants[key] = roles
        return roles
