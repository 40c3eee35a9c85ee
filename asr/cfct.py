"""``asr cfct-manifest``: a Customizations for AWS Control Tower ``manifest.yaml`` for our three stacks.

The manifest (schema version 2021-03-15) has one ``stack_set`` resource per stack: the admin stack
in the Security Hub admin account and Region, member-roles in every target account (one Region:
its roles are global), and member in every target account and Region. Each resource lists *every*
parameter of its built template -- read from the synthesized templates, so the manifest cannot
drift from them -- with the value given on the command line or the template's default; a name no
template declares, or a value its template would refuse, is refused naming it.

Format: https://docs.aws.amazon.com/controltower/latest/userguide/the-manifest-file.html (region,
version) and https://docs.aws.amazon.com/controltower/latest/userguide/cfct-manifest-file-resources-section.html
(resources: name, resource_file, deployment_targets, deploy_method, parameters, regions).
``deployment_targets.organizational_units`` takes OU *names* (nested OUs as ``Parent:Child``, Root
excluded: https://docs.aws.amazon.com/controltower/latest/userguide/cfct-nested-ou.html), not OU ids.
CfCT deploys stack sets with self-managed permissions, account by account, so our nested templates
work there; the buckets must let the organization read them (docs/deploy.md).
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import yaml

from asr import solution
from asr.preflight import STACKS, PreflightError, Templates, account_ids, parse_overrides, regions, resolve_parameters

#: The manifest schema version this module writes (a YAML date, unquoted, as the CfCT docs show it).
VERSION = datetime.date(2021, 3, 15)
#: Resource names: letters, digits and '-', starting with a letter (CfCT docs, resources section, "name").
NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*", re.ASCII)
#: Stack order in the manifest (CfCT deploys resources in manifest order).
ORDER = ("admin", "member-roles", "member")
DESCRIPTIONS = {
    "admin": "ASR admin stack: orchestrator, playbook rules and custom actions (Security Hub admin account)",
    "member-roles": "ASR remediation roles (once per account; IAM is global)",
    "member": "ASR member stack: remediation runbooks (every account and Region)",
}


def ou_names(option: str, value: str | None) -> list[str]:
    """OU names for CfCT; an OU id is refused (CfCT matches names)."""
    names = [v.strip() for v in (value or "").split(",") if value is not None]
    for name in names:
        if not name or re.fullmatch(r"(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})", name):
            raise PreflightError(
                f"{option}: {name!r} is an OU id or empty; CfCT's organizational_units takes OU names "
                "(nested: Parent:Child, without Root)"
            )
        if name.split(":")[0] == "Root":
            raise PreflightError(f"{option}: {name!r}: CfCT nested OU paths exclude Root (use {name[5:]!r})")
    if len(set(names)) != len(names):
        raise PreflightError(f"{option} {value!r}: an OU is listed twice")
    return names


def manifest(
    templates: Templates,
    *,
    admin_account: str,
    namespace: str,
    region_list: list[str],
    home_region: str | None = None,
    admin_region: str | None = None,
    ous: list[str] | None = None,
    accounts: list[str] | None = None,
    overrides: list[tuple[str | None, str, str]] | None = None,
    bucket: str | None = None,
    version: str | None = None,
    name_prefix: str = "asr",
) -> dict[str, Any]:
    """The manifest as a mapping (``render`` writes it as YAML)."""
    if bucket is not None and bucket != templates.bucket:
        raise PreflightError(
            f"--bucket {bucket!r}: the templates in {str(templates.directory)!r} were built for bucket "
            f"{templates.bucket!r} (their nested stacks and Lambda code come from it); rebuild with "
            f"make BUCKET={bucket} or leave --bucket out"
        )
    if version is not None and version != templates.version:
        raise PreflightError(
            f"--version {version!r}: the templates in {str(templates.directory)!r} were built as "
            f"{templates.version!r}; rebuild with make VERSION={version} or leave --version out"
        )
    if not NAME.fullmatch(name_prefix):
        raise PreflightError(f"--name-prefix {name_prefix!r}: letters, digits and '-', starting with a letter")
    if not region_list:
        raise PreflightError("--regions: give at least one Region")
    home = home_region or region_list[0]
    admin_at = admin_region or home
    for option, value in (("--home-region", home), ("--admin-region", admin_at)):
        if not solution.is_full_match(solution.REGION, value):
            raise PreflightError(f"{option}: {value!r} is not an AWS Region name (like us-east-1)")
    members = list(dict.fromkeys([*(accounts or []), admin_account]))
    targets: dict[str, Any] = {}
    if ous:
        targets["organizational_units"] = list(ous)
    targets["accounts"] = members
    values = resolve_parameters(
        templates,
        overrides or [],
        {"SecHubAdminAccount": admin_account, "Namespace": namespace},
        require_all=True,
        allow_alfred=True,
    )
    where = {
        "admin": ({"accounts": [admin_account]}, [admin_at]),
        "member-roles": (targets, [home]),
        "member": (targets, list(region_list)),
    }
    resources = []
    for stack in ORDER:
        deployment_targets, stack_regions = where[stack]
        resources.append(
            {
                "name": f"{name_prefix}-{stack}",
                "description": DESCRIPTIONS[stack],
                "resource_file": templates.template_url(stack),
                "deploy_method": "stack_set",
                "parameters": [
                    {"parameter_key": key, "parameter_value": value} for key, value in values[stack].items()
                ],
                "deployment_targets": deployment_targets,
                "regions": stack_regions,
            }
        )
    return {"region": home, "version": VERSION, "resources": resources}


class _Dumper(yaml.SafeDumper):
    """Block style, key order kept; lists indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:  # no &id001 anchors: each resource spelled out
        return True


def render(document: dict[str, Any], header: str = "") -> str:
    """YAML text: strings that YAML would read as another type ('yes', '012345678912') are quoted."""
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000)
    return "---\n" + header + body


def run(args: Any) -> str:
    from asr.preflight import load_templates

    templates = load_templates(args.templates)
    admin = account_ids("--admin-account", args.admin_account)
    if len(admin) != 1:
        raise PreflightError(f"--admin-account {args.admin_account!r}: give exactly one 12-digit account id")
    document = manifest(
        templates,
        admin_account=admin[0],
        namespace=args.namespace,
        region_list=regions("--regions", args.regions),
        home_region=args.home_region,
        admin_region=args.admin_region,
        ous=ou_names("--ous", args.ous),
        accounts=account_ids("--accounts", args.accounts),
        overrides=parse_overrides(args.parameter or []),
        bucket=args.bucket,
        version=args.version,
        name_prefix=args.name_prefix,
    )
    header = (
        f"# Customizations for AWS Control Tower manifest for {solution.SOLUTION_NAME} {templates.version}\n"
        f"# Written by `asr cfct-manifest` from the templates in {templates.directory}; every parameter of each\n"
        "# template is listed. Templates are fetched from the bucket below: let the organization read it.\n"
    )
    return render(document, header)


__all__ = ["STACKS", "VERSION", "manifest", "ou_names", "render", "run"]
