"""Render remediation runbooks and read their IAM declarations.

Plain Python with no CDK import: the remediation-runbooks stack, the member-roles
stack, the local runner and the tests all read the runbooks through this module.

Layout of one remediation ``<Name>``:

* ``remediation_runbooks/<Name>.yaml`` -- the SSM Automation document ``ASR-<Name>``.
  An ``aws:executeScript`` step says ``Script: '%%SCRIPT=<file>.py%%'``; rendering
  replaces it with the text of ``remediation_runbooks/scripts/<file>.py``.
  ``%%ROLE=<Name>%%`` anywhere in a string becomes ``<Name>-<namespace>``.
* ``remediation_runbooks/scripts/<file>.py`` -- plain, importable Python.
* ``remediation_runbooks/permissions/<Name>.yaml`` -- the IAM statements of role
  ``SO0111-<Name>-<namespace>`` and any service role the remediation hands to AWS.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from asr import solution

REPO_ROOT = Path(__file__).resolve().parent.parent
RUNBOOK_DIR = REPO_ROOT / "remediation_runbooks"
SCRIPT_DIR = RUNBOOK_DIR / "scripts"
PERMISSIONS_DIR = RUNBOOK_DIR / "permissions"

_SCRIPT = re.compile(r"^%%SCRIPT=([A-Za-z0-9_]+\.py)%%$")
_ROLE = re.compile(r"%%ROLE=([A-Za-z0-9+=,.@_-]+)%%")


class DocumentError(ValueError):
    """A runbook or permission file is malformed."""


def remediation_names() -> list[str]:
    """Remediation names (``EnableKeyRotation`` ...) of every runbook in the repo."""
    return sorted(p.stem for p in RUNBOOK_DIR.glob("*.yaml"))


def remediation_runbook_names() -> list[str]:
    """SSM document names (``ASR-EnableKeyRotation`` ...) of every runbook."""
    return [solution.remediation_document(n) for n in remediation_names()]


@functools.cache
def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DocumentError(f"{path.relative_to(REPO_ROOT)}: file not found") from None
    except yaml.YAMLError as err:
        raise DocumentError(f"{path.relative_to(REPO_ROOT)}: invalid YAML: {err}") from None


def _strip_prefix(name: str) -> str:
    return name.removeprefix(solution.DOCUMENT_PREFIX)


def runbook_source(name: str) -> dict[str, Any]:
    """The document as written in the repo, placeholders untouched."""
    doc = _load_yaml(RUNBOOK_DIR / f"{_strip_prefix(name)}.yaml")
    if not isinstance(doc, dict):
        raise DocumentError(f"runbook {name}: top level must be a mapping")
    return doc


def script_text(file_name: str) -> str:
    path = SCRIPT_DIR / file_name
    if not path.is_file():
        raise DocumentError(f"script {file_name}: not found in {SCRIPT_DIR.relative_to(REPO_ROOT)}")
    return path.read_text(encoding="utf-8")


def _render(value: Any, namespace: str) -> Any:
    if isinstance(value, dict):
        return {k: _render(v, namespace) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, namespace) for v in value]
    if isinstance(value, str):
        script = _SCRIPT.match(value.strip())
        if script:
            return script_text(script.group(1))
        if "%%" in value:
            value = _ROLE.sub(lambda m: f"{m.group(1)}-{namespace}", value)
            if "%%" in value:
                raise DocumentError(f"unknown placeholder in {value!r}")
        return value
    return value


def render_document(source: dict[str, Any], namespace: str, *, deploy_time: bool = False) -> dict[str, Any]:
    """Replace ``%%SCRIPT=..%%`` and ``%%ROLE=..%%`` placeholders.

    ``deploy_time``: ``namespace`` is a CloudFormation token (the stack's Namespace
    parameter) resolved when the stack deploys, so it is not checked here.
    """
    if not deploy_time and not re.fullmatch(solution.NAMESPACE_PATTERN, namespace):
        raise DocumentError(f"namespace {namespace!r} does not match {solution.NAMESPACE_PATTERN}")
    return _render(source, namespace)


def render_remediation_runbook(name: str, namespace: str, *, deploy_time: bool = False) -> dict[str, Any]:
    """Rendered content of ``ASR-<Name>`` (``name`` with or without ``ASR-``)."""
    return render_document(runbook_source(name), namespace, deploy_time=deploy_time)


# --- IAM declarations -----------------------------------------------------------

_ALLOWED_SUBSTITUTIONS = {"AWS::Partition", "AWS::AccountId", "Namespace"}


@dataclass(frozen=True)
class Statement:
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: dict[str, Any] = field(default_factory=dict)
    justification: str = ""

    def as_policy(self) -> dict[str, Any]:
        stmt: dict[str, Any] = {
            "Effect": "Allow",
            "Action": list(self.actions) if len(self.actions) > 1 else self.actions[0],
            "Resource": list(self.resources) if len(self.resources) > 1 else self.resources[0],
        }
        if self.conditions:
            stmt["Condition"] = self.conditions
        return stmt


@dataclass(frozen=True)
class ServiceRole:
    """A role the remediation hands to an AWS service (retained on delete)."""

    name: str  # without SO0111- prefix and -<ns> suffix
    principal: str
    statements: tuple[Statement, ...] = ()
    managed_policies: tuple[str, ...] = ()
    instance_profile: str = ""  # without SO0111- prefix and -<ns> suffix


@dataclass(frozen=True)
class Permissions:
    remediation: str
    statements: tuple[Statement, ...]
    service_roles: tuple[ServiceRole, ...] = ()


def _statement(raw: Any, where: str) -> Statement:
    if not isinstance(raw, dict):
        raise DocumentError(f"{where}: a statement must be a mapping")
    unknown = set(raw) - {"actions", "resources", "conditions", "justification"}
    if unknown:
        raise DocumentError(f"{where}: unknown keys {sorted(unknown)}")
    actions = tuple(raw.get("actions") or ())
    resources = tuple(raw.get("resources") or ())
    if not actions or not resources:
        raise DocumentError(f"{where}: a statement needs actions and resources")
    for action in actions:
        if not re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9*]+", action):
            raise DocumentError(f"{where}: action {action!r} is not service:Action")
    justification = str(raw.get("justification") or "").strip()
    if "*" in resources and not justification:
        raise DocumentError(f"{where}: resource '*' needs a one-line justification")
    for resource in resources:
        for sub in re.findall(r"\$\{([^}]+)\}", resource):
            if sub not in _ALLOWED_SUBSTITUTIONS:
                raise DocumentError(
                    f"{where}: substitution ${{{sub}}} in {resource!r} is not one of "
                    f"{sorted(_ALLOWED_SUBSTITUTIONS)} (roles are global: use * for the Region)"
                )
    return Statement(actions, resources, dict(raw.get("conditions") or {}), justification)


@functools.cache
def permissions(remediation: str) -> Permissions:
    """IAM declaration of ``remediation`` (name without ``ASR-``/``AWS-``)."""
    path = PERMISSIONS_DIR / f"{remediation}.yaml"
    raw = _load_yaml(path)
    where = str(path.relative_to(REPO_ROOT))
    if not isinstance(raw, dict) or not raw.get("statements"):
        raise DocumentError(f"{where}: needs a non-empty 'statements' list")
    statements = tuple(_statement(s, f"{where} statement {i}") for i, s in enumerate(raw["statements"]))
    roles = []
    for i, r in enumerate(raw.get("service_roles") or ()):
        rwhere = f"{where} service_roles[{i}]"
        if not isinstance(r, dict) or not r.get("name") or not r.get("principal"):
            raise DocumentError(f"{rwhere}: needs name and principal")
        roles.append(
            ServiceRole(
                name=r["name"],
                principal=r["principal"],
                statements=tuple(
                    _statement(s, f"{rwhere} statement {j}") for j, s in enumerate(r.get("statements") or ())
                ),
                managed_policies=tuple(r.get("managed_policies") or ()),
                instance_profile=r.get("instance_profile", ""),
            )
        )
    return Permissions(remediation, statements, tuple(roles))


def permission_names() -> list[str]:
    """Remediations with an IAM declaration (ASR runbooks and AWS-owned documents)."""
    return sorted(p.stem for p in PERMISSIONS_DIR.glob("*.yaml"))
