"""``asr preflight``: what a deploy needs, checked before anything is deployed.

Offline, from the built templates (``deployment/global-s3-assets/`` unless ``--templates``):

* every parameter value given (``--parameter [STACK:]KEY=VALUE``, ``--namespace``, the admin account)
  against the template's ``AllowedValues``, ``AllowedPattern``, ``MinLength``/``MaxLength`` and
  ``MinValue``/``MaxValue`` -- the checks CloudFormation makes when the stack is created;
* Security Hub's consolidated control findings on or off, and which playbooks that means loading;
* account ids, OU ids and Regions: their format, duplicates, the admin account and Region among them;
* the buckets the templates fetch from (``<bucket>-reference``, ``<bucket>-<region>``).

With AWS credentials (and without ``--offline``), read-only calls in the account whose credentials
are used: Security Hub enabled in each Region and its control finding generator, the Security Hub
delegated administrator, StackSets trusted access, and existing ASR stacks with their versions
(``DescribeStacks``: the template Description ``(SO0111...) ..., v2.3.2``). Without credentials it
says which checks it skipped. The shared pieces (templates, parameter checks) are also used by
``asr cfct-manifest`` (:mod:`asr.cfct`).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from asr import solution
from asr.build import DEFAULT_OUT, GLOBAL_ASSETS
from asr.playbooks.data import STANDARD_KEYS

#: The three templates a deployment creates stacks from, by the name used on the command line.
STACKS = {
    "admin": solution.TEMPLATE_FILES[solution.ADMIN_STACK],
    "member-roles": solution.TEMPLATE_FILES[solution.MEMBER_ROLES_STACK],
    "member": solution.TEMPLATE_FILES[solution.MEMBER_STACK],
}
DEFAULT_TEMPLATES = DEFAULT_OUT / GLOBAL_ASSETS

#: AWS Organizations ids. Account: 12 digits. OU: ``ou-`` + 4-32 (root id part) + ``-`` + 8-32
#: lowercase letters or digits; root: ``r-`` + 4-32. From the Organizations API reference,
#: https://docs.aws.amazon.com/organizations/latest/APIReference/API_OrganizationalUnit.html (Id) and
#: https://docs.aws.amazon.com/organizations/latest/APIReference/API_Root.html (Id).
OU_ID = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}", re.ASCII)
ROOT_ID = re.compile(r"r-[0-9a-z]{4,32}", re.ASCII)
#: Service principals (Organizations ``ListAWSServiceAccessForOrganization``,
#: ``ListDelegatedAdministrators``). StackSets: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-activate-trusted-access.html
STACKSETS_PRINCIPAL = "member.org.stacksets.cloudformation.amazonaws.com"
SECURITYHUB_PRINCIPAL = "securityhub.amazonaws.com"
#: ``(SO0111) ... Administrator Stack, v2.3.2``: every top-level template of the reference and of ours.
DESCRIPTION = re.compile(r"^\((?:DEV-)?SO0111([A-Z]*)\) (.+?),? v(\d+)\.(\d+)\.(\d+)\S*$")

CONSOLIDATED = ("on", "off", "unknown")


class PreflightError(Exception):
    """Bad input; the message names the field and the value."""


# --- templates -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Templates:
    """The three built templates and the distribution they were built for."""

    directory: Path
    by_stack: dict[str, dict[str, Any]]
    bucket: str
    version: str

    def parameters(self, stack: str) -> dict[str, dict[str, Any]]:
        return self.by_stack[stack].get("Parameters", {})

    def template_url(self, stack: str) -> str:
        return f"{solution.template_url_prefix(self.bucket, self.version)}/{STACKS[stack]}"


def load_templates(directory: Path | str | None = None) -> Templates:
    """Read the admin, member-roles and member templates of a build."""
    folder = Path(directory) if directory else DEFAULT_TEMPLATES
    by_stack: dict[str, dict[str, Any]] = {}
    for stack, name in STACKS.items():
        path = folder / name
        if not path.is_file():
            raise PreflightError(
                f"--templates {str(folder)!r}: no {name} there; build first (make BUCKET=<bucket> VERSION=<version>) "
                "or point --templates at a folder of built templates"
            )
        try:
            by_stack[stack] = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as err:
            raise PreflightError(f"template {str(path)!r} is not JSON: {err}") from None
    general = by_stack["member"].get("Mappings", {}).get("SourceCode", {}).get("General", {})
    bucket, prefix = general.get("S3Bucket"), general.get("KeyPrefix", "")
    if not bucket or not prefix.startswith(f"{solution.TRADEMARKED_NAME}/"):
        raise PreflightError(f"template {STACKS['member']!r} in {str(folder)!r} has no SourceCode mapping")
    return Templates(folder, by_stack, bucket, prefix.split("/", 1)[1])


# --- parameters ----------------------------------------------------------------------------------


def value_problem(spec: dict[str, Any], value: str) -> str | None:
    """Why CloudFormation would refuse ``value`` for a parameter declared as ``spec``, or None.

    The constraints of https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
    (AllowedPattern must match the whole value, lengths count characters, MinValue/MaxValue bound a Number).
    """
    if not isinstance(value, str):
        return f"is a {type(value).__name__}, not a string"
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in allowed:
        return f"is not one of {', '.join(map(repr, allowed))}"
    if spec.get("Type", "String") == "Number":
        try:
            number = float(value)
        except ValueError:
            return "is not a number"
        if "MinValue" in spec and number < float(spec["MinValue"]):
            return f"is below MinValue {spec['MinValue']}"
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            return f"is above MaxValue {spec['MaxValue']}"
        return None
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        return f"is shorter than MinLength {spec['MinLength']}"
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        return f"is longer than MaxLength {spec['MaxLength']}"
    pattern = spec.get("AllowedPattern")
    if pattern is not None and re.fullmatch(pattern, value, re.ASCII) is None:
        hint = f" ({spec['ConstraintDescription']})" if spec.get("ConstraintDescription") else ""
        return f"does not match AllowedPattern {pattern}{hint}"
    return None


def parse_overrides(items: Iterable[str]) -> list[tuple[str | None, str, str]]:
    """``[STACK:]KEY=VALUE`` -> (stack or None, key, value)."""
    parsed = []
    for item in items:
        key, sep, value = item.partition("=")
        stack: str | None = None
        if ":" in key:
            stack, key = key.split(":", 1)
            if stack not in STACKS:
                raise PreflightError(f"--parameter {item!r}: stack {stack!r} is not one of {', '.join(STACKS)}")
        if not sep or not key:
            raise PreflightError(f"--parameter {item!r}: expected [STACK:]KEY=VALUE, e.g. member:LogGroupName=trail")
        parsed.append((stack, key, value))
    return parsed


def alfred(value: str) -> bool:
    """A CfCT ``$[alfred_ssm_...]`` reference: resolved when CfCT deploys, not checkable here."""
    return value.startswith("$[alfred_")


def resolve_parameters(
    templates: Templates,
    overrides: Sequence[tuple[str | None, str, str]],
    given: dict[str, str],
    *,
    require_all: bool,
    allow_alfred: bool = False,
) -> dict[str, dict[str, str]]:
    """Stack -> every parameter of its template -> value (given, overridden or the default).

    ``given`` (SecHubAdminAccount, Namespace from their own options) applies to every template that
    has the parameter. An override naming no parameter of its template(s) is refused, naming it; so
    is a value the template would refuse, naming stack, parameter and value. ``require_all``: a
    parameter without default and without value is refused too.
    """
    unknown = []
    chosen: dict[str, dict[str, str]] = {stack: {} for stack in STACKS}
    for stack, key, value in overrides:
        targets = [stack] if stack else [s for s in STACKS if key in templates.parameters(s)]
        if not targets or key not in templates.parameters(targets[0]):
            known = sorted({p for s in ([stack] if stack else STACKS) for p in templates.parameters(s)})
            close = difflib.get_close_matches(key, known, n=2)
            where = f"the {stack} template" if stack else "the admin, member-roles or member template"
            unknown.append(
                f"{key!r} (not a parameter of {where}" + (f"; did you mean {', '.join(close)}?)" if close else ")")
            )
            continue
        for target in targets:
            if key in given and given[key] != value:
                raise PreflightError(
                    f"--parameter {key}={value!r} contradicts the value {given[key]!r} given by its own option"
                )
            chosen[target][key] = value
    if unknown:
        raise PreflightError(f"unknown parameter name(s): {'; '.join(unknown)}")
    result: dict[str, dict[str, str]] = {}
    missing = []
    for stack in STACKS:
        values: dict[str, str] = {}
        for name, spec in templates.parameters(stack).items():
            if name in chosen[stack]:
                value = chosen[stack][name]
            elif name in given:
                value = given[name]
            elif "Default" in spec:
                value = str(spec["Default"])
            else:
                if require_all:
                    missing.append(f"{stack}:{name}")
                continue
            if not (allow_alfred and alfred(value)):
                problem = value_problem(spec, value)
                if problem:
                    raise PreflightError(f"{stack} parameter {name}={value!r} {problem}")
            values[name] = value
        result[stack] = values
    if missing:
        raise PreflightError(
            f"parameter(s) without a default need a value: {', '.join(missing)} (pass --parameter {missing[0]}=VALUE)"
        )
    return result


# --- ids ------------------------------------------------------------------------------------------


def split_list(option: str, value: str | None) -> list[str]:
    """A comma-separated option; an empty item or a duplicate is refused, naming it."""
    if value is None:
        return []
    items = [v.strip() for v in value.split(",")]
    if any(not v for v in items):
        raise PreflightError(f"{option} {value!r}: empty item in the comma-separated list")
    seen = set()
    for item in items:
        if item in seen:
            raise PreflightError(f"{option} {value!r}: {item!r} is listed twice")
        seen.add(item)
    return items


def account_ids(option: str, value: str | None) -> list[str]:
    ids = split_list(option, value)
    for item in ids:
        if not solution.is_full_match(solution.ACCOUNT_ID, item):
            raise PreflightError(f"{option}: {item!r} is not a 12-digit AWS account id")
    return ids


def regions(option: str, value: str | None) -> list[str]:
    names = split_list(option, value)
    for item in names:
        if not solution.is_full_match(solution.REGION, item):
            raise PreflightError(f"{option}: {item!r} is not an AWS Region name (like us-east-1)")
    return names


def ou_ids(option: str, value: str | None) -> list[str]:
    ids = split_list(option, value)
    for item in ids:
        if not (OU_ID.fullmatch(item) or ROOT_ID.fullmatch(item)):
            raise PreflightError(
                f"{option}: {item!r} is not an organizational unit id (ou-xxxx-xxxxxxxx) or root id (r-xxxx)"
            )
    return ids


def playbooks_for(consolidated: str) -> tuple[str, ...]:
    """The playbooks to load for Security Hub's control finding setting.

    Consolidated control findings on (``ControlFindingGenerator`` ``SECURITY_CONTROL``): one finding per
    control, ``GeneratorId`` ``security-control/<id>``, handled by SC only. Off (``STANDARD_CONTROL``):
    one finding per enabled standard, handled by that standard's playbook
    (https://docs.aws.amazon.com/securityhub/latest/userguide/controls-findings-create-update.html).
    """
    if consolidated == "on":
        return ("SC",)
    return tuple(k for k in STANDARD_KEYS if k != "SC")


# --- report ---------------------------------------------------------------------------------------

OK, WARN, FAIL, SKIP = "OK", "WARN", "FAIL", "SKIP"


@dataclass
class Report:
    needs: list[str] = field(default_factory=list)
    checks: list[tuple[str, str]] = field(default_factory=list)

    def add(self, status: str, message: str) -> None:
        self.checks.append((status, message))

    @property
    def failed(self) -> bool:
        return any(status == FAIL for status, _ in self.checks)

    def render(self, out: TextIO) -> None:
        out.write("What this deployment needs:\n")
        for line in self.needs:
            out.write(f"  {line}\n")
        out.write("\nChecks:\n")
        for status, message in self.checks:
            out.write(f"  {status:<4}  {message}\n")
        counts = {s: sum(1 for c, _ in self.checks if c == s) for s in (OK, WARN, FAIL, SKIP)}
        out.write("\n" + ", ".join(f"{n} {s}" for s, n in counts.items()) + "\n")


@dataclass(frozen=True)
class Plan:
    """What the command line asks for, validated."""

    templates: Templates
    admin_account: str
    admin_region: str
    regions: list[str]
    member_accounts: list[str]
    ous: list[str]
    namespace: str | None
    consolidated: str
    playbooks: tuple[str, ...] | None
    parameters: dict[str, dict[str, str]]


def plan_from(args: Any) -> Plan:
    templates = load_templates(args.templates)
    admin = account_ids("--admin-account", args.admin_account)
    if len(admin) != 1:
        raise PreflightError(f"--admin-account {args.admin_account!r}: give exactly one 12-digit account id")
    region_list = regions("--regions", args.regions)
    if not region_list:
        raise PreflightError("--regions '': give at least one Region")
    admin_region = args.admin_region or region_list[0]
    if not solution.is_full_match(solution.REGION, admin_region):
        raise PreflightError(f"--admin-region: {admin_region!r} is not an AWS Region name (like us-east-1)")
    if admin_region not in region_list:
        raise PreflightError(
            f"--admin-region {admin_region!r} is not in --regions {args.regions!r}: the admin account also gets the "
            "member stack in its Region"
        )
    given = {"SecHubAdminAccount": admin[0]}
    if args.namespace is not None:
        given["Namespace"] = args.namespace
    if args.playbooks:
        keys = [k.strip().upper() for k in args.playbooks.split(",")]
        bad = [k for k in keys if k not in STANDARD_KEYS]
        if bad or not keys:
            raise PreflightError(f"--playbooks {args.playbooks!r}: {', '.join(map(repr, bad))} is not a playbook")
        playbooks: tuple[str, ...] | None = tuple(keys)
    else:
        playbooks = None
    overrides = parse_overrides(args.parameter or [])
    if playbooks is not None:
        for key in STANDARD_KEYS:
            value = "yes" if key in playbooks else "no"
            given[solution.load_admin_parameter(key)] = value
            given[solution.load_member_parameter(key)] = value
    parameters = resolve_parameters(templates, overrides, given, require_all=False)
    return Plan(
        templates=templates,
        admin_account=admin[0],
        admin_region=admin_region,
        regions=region_list,
        member_accounts=account_ids("--member-accounts", args.member_accounts),
        ous=ou_ids("--ous", args.ous),
        namespace=args.namespace,
        consolidated=args.consolidated_findings,
        playbooks=playbooks,
        parameters=parameters,
    )


def offline(plan: Plan, report: Report) -> None:
    t = plan.templates
    report.needs += [
        f"templates built for bucket {t.bucket!r}, version {t.version} ({t.directory})",
        f"bucket {t.bucket}-reference: every template, readable by the organization "
        f"(nested stacks are fetched from {solution.template_url_prefix(t.bucket, t.version)}/)",
        *(
            f"bucket {t.bucket}-{r} in {r}: the Lambda zips (s3://{t.bucket}-{r}/"
            f"{solution.lambda_key_prefix(t.version)}/lambda/)"
            for r in plan.regions
        ),
        f"admin stack: account {plan.admin_account}, Region {plan.admin_region} (Security Hub aggregation Region)",
        "member-roles stack: once per account (IAM is global), the admin account included, one Region",
        f"member stack: every account and Region you remediate in ({', '.join(plan.regions)}), "
        "the admin account included",
    ]
    missing = {
        stack: [
            n for n, spec in t.parameters(stack).items() if "Default" not in spec and n not in plan.parameters[stack]
        ]
        for stack in STACKS
    }
    for stack, names in missing.items():
        if names:
            report.add(WARN, f"{stack} template: no value yet for {', '.join(names)} (no default: the stack needs one)")
        else:
            report.add(
                OK, f"{stack} template: every parameter has a valid value ({len(t.parameters(stack))} parameters)"
            )

    loaded = [k for k in STANDARD_KEYS if plan.parameters["admin"].get(solution.load_admin_parameter(k)) == "yes"]
    member_loaded = [
        k for k in STANDARD_KEYS if plan.parameters["member"].get(solution.load_member_parameter(k)) == "yes"
    ]
    report.needs.append(
        f"playbooks loaded: admin {', '.join(loaded) or 'none'}; member {', '.join(member_loaded) or 'none'}"
    )
    if loaded != member_loaded:
        report.add(
            FAIL,
            f"the admin stack loads {', '.join(loaded) or 'no playbook'} but the member stack loads "
            f"{', '.join(member_loaded) or 'none'}: a playbook needs both (its rules in the admin account, its "
            "runbooks in every member)",
        )
    if plan.consolidated == "unknown":
        report.add(
            WARN,
            "consolidated control findings not stated (--consolidated-findings on|off): on -> load SC only; "
            "off -> load the playbooks of the standards enabled in Security Hub",
        )
    else:
        wanted = playbooks_for(plan.consolidated)
        useless = [k for k in loaded if k not in wanted]
        if plan.consolidated == "on":
            if "SC" not in loaded:
                report.add(FAIL, "consolidated control findings are on but SC is not loaded: no finding would match")
            else:
                report.add(OK, "consolidated control findings on: SC is loaded")
        elif not [k for k in loaded if k in wanted]:
            report.add(
                FAIL,
                "consolidated control findings are off but no standard playbook is loaded (AFSBP, CIS120, CIS140, "
                f"CIS300, NIST80053, PCI321): loaded {', '.join(loaded) or 'none'}",
            )
        else:
            report.add(OK, f"consolidated control findings off: standard playbooks loaded: {', '.join(loaded)}")
        if useless:
            report.add(
                WARN,
                f"consolidated control findings {plan.consolidated}: {', '.join(useless)} would get no findings "
                f"(load {', '.join(wanted)})",
            )

    targets = plan.member_accounts or plan.ous
    if not targets:
        report.add(WARN, "no --member-accounts or --ous: only the admin account would get member stacks")
    elif plan.member_accounts and plan.admin_account not in plan.member_accounts and not plan.ous:
        report.add(
            WARN,
            f"admin account {plan.admin_account} is not in --member-accounts: it needs member-roles and member too",
        )
    else:
        report.add(
            OK,
            f"deployment targets: {len(plan.member_accounts)} account(s), {len(plan.ous)} OU(s), "
            f"{len(plan.regions)} Region(s)",
        )
    if plan.ous:
        report.needs.append(
            "service-managed StackSets (OUs): trusted access for StackSets in AWS Organizations; they never deploy "
            "to the management account; the member stack nests templates, so its StackSet needs a custom execution "
            "role template (docs/deploy.md, StackSets)"
        )


# --- online ---------------------------------------------------------------------------------------

ONLINE_CHECKS = (
    "caller identity",
    "Security Hub enabled and its control finding generator, per Region",
    "Security Hub administrator / delegated administrator",
    "StackSets trusted access in AWS Organizations",
    "existing ASR stacks and their versions, per Region",
)


def _error_code(err: Exception) -> str:
    return getattr(err, "response", {}).get("Error", {}).get("Code", type(err).__name__)


def online(plan: Plan, report: Report, session: Any) -> None:
    """Read-only checks with the session's credentials (the caller's, none of our roles)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        identity = session.client("sts", region_name=plan.admin_region).get_caller_identity()
    except (ClientError, BotoCoreError) as err:
        report.add(
            SKIP, f"AWS checks: cannot identify the caller ({_error_code(err)}); skipped: {'; '.join(ONLINE_CHECKS)}"
        )
        return
    account = identity["Account"]
    report.add(OK, f"AWS credentials: account {account} ({identity['Arn']})")
    if account != plan.admin_account:
        report.add(
            WARN,
            f"credentials are for account {account}, not the admin account {plan.admin_account}: "
            "Security Hub and stack checks describe account " + account,
        )

    generators = set()
    for region in plan.regions:
        hub = session.client("securityhub", region_name=region)
        try:
            described = hub.describe_hub()
        except ClientError as err:
            code = _error_code(err)
            if code == "InvalidAccessException":
                report.add(FAIL, f"Security Hub is not enabled in account {account}, {region}")
            else:
                report.add(SKIP, f"Security Hub in {region}: DescribeHub refused ({code})")
            continue
        generator = described.get("ControlFindingGenerator", "")
        generators.add(generator)
        report.add(OK, f"Security Hub enabled in account {account}, {region} (control findings: {generator or '?'})")
        if generator and plan.consolidated != "unknown":
            actual = "on" if generator == "SECURITY_CONTROL" else "off"
            if actual != plan.consolidated:
                report.add(
                    FAIL,
                    f"--consolidated-findings {plan.consolidated} but Security Hub in {region} has "
                    f"ControlFindingGenerator {generator} (consolidated {actual}): "
                    f"load {', '.join(playbooks_for(actual))}",
                )
    if len(generators) > 1:
        report.add(WARN, f"Regions differ in ControlFindingGenerator: {', '.join(sorted(generators))}")

    hub = session.client("securityhub", region_name=plan.admin_region)
    if account != plan.admin_account:
        try:
            admin = hub.get_administrator_account().get("Administrator", {}).get("AccountId")
            if admin == plan.admin_account:
                report.add(OK, f"Security Hub administrator of {account} is {admin}")
            else:
                report.add(
                    FAIL, f"Security Hub administrator of {account} is {admin or 'none'}, not {plan.admin_account}"
                )
        except ClientError as err:
            report.add(SKIP, f"Security Hub administrator: GetAdministratorAccount refused ({_error_code(err)})")

    org = session.client("organizations", region_name=plan.admin_region)
    try:
        organization = org.describe_organization()["Organization"]
    except ClientError as err:
        report.add(
            SKIP,
            f"AWS Organizations: DescribeOrganization refused ({_error_code(err)}); skipped the "
            "delegated administrator and StackSets trusted access checks",
        )
        organization = None
    if organization is not None:
        management = organization.get("MasterAccountId")
        if plan.admin_account == management:
            report.add(
                WARN,
                f"the admin account {management} is the management account: service-managed StackSets "
                "do not deploy there, and AWS recommends a delegated administrator for Security Hub",
            )
        if management in plan.member_accounts and plan.ous:
            report.add(
                WARN,
                f"management account {management}: service-managed StackSets do not deploy to it; "
                "deploy member-roles and member there as stacks",
            )
        try:
            delegated = [
                a["Id"]
                for page in org.get_paginator("list_delegated_administrators").paginate(
                    ServicePrincipal=SECURITYHUB_PRINCIPAL
                )
                for a in page["DelegatedAdministrators"]
            ]
            if plan.admin_account in delegated:
                report.add(OK, f"Security Hub delegated administrator: {plan.admin_account}")
            else:
                report.add(
                    FAIL,
                    f"Security Hub delegated administrator is {', '.join(delegated) or 'none'}, "
                    f"not {plan.admin_account}",
                )
        except ClientError as err:
            report.add(
                SKIP,
                f"Security Hub delegated administrator: ListDelegatedAdministrators refused "
                f"({_error_code(err)}; run from the management account)",
            )
        try:
            enabled = {
                s["ServicePrincipal"]
                for page in org.get_paginator("list_aws_service_access_for_organization").paginate()
                for s in page["EnabledServicePrincipals"]
            }
            if STACKSETS_PRINCIPAL in enabled:
                report.add(OK, "StackSets trusted access is enabled in AWS Organizations")
            elif plan.ous:
                report.add(
                    FAIL,
                    "StackSets trusted access is not enabled: service-managed StackSets to --ous "
                    "cannot deploy (aws organizations enable-aws-service-access --service-principal "
                    f"{STACKSETS_PRINCIPAL}, or the StackSets console)",
                )
            else:
                report.add(WARN, "StackSets trusted access is not enabled: use self-managed StackSets")
        except ClientError as err:
            report.add(
                SKIP,
                f"StackSets trusted access: ListAWSServiceAccessForOrganization refused "
                f"({_error_code(err)}; run from the management account)",
            )

    for region in plan.regions:
        cfn = session.client("cloudformation", region_name=region)
        try:
            stacks = [s for page in cfn.get_paginator("describe_stacks").paginate() for s in page["Stacks"]]
        except ClientError as err:
            report.add(SKIP, f"existing stacks in {region}: DescribeStacks refused ({_error_code(err)})")
            continue
        found = 0
        for stack in stacks:
            match = DESCRIPTION.match(stack.get("Description") or "")
            if not match or stack.get("ParentId"):
                continue
            found += 1
            version = ".".join(match.group(3, 4, 5))
            what = f"stack {stack['StackName']} in {region}: {match.group(2)} v{version} ({stack['StackStatus']})"
            if version == plan.templates.version.lstrip("v").split("-")[0]:
                report.add(OK, f"{what}: already this version")
            elif (match.group(3), match.group(4)) == ("2", "3"):
                report.add(WARN, f"{what}: update it in place with the new template (docs/upgrade.md)")
            else:
                report.add(
                    FAIL,
                    f"{what}: only v2.3.x stacks update in place to {plan.templates.version}; update to v2.3.2 first",
                )
        if not found:
            report.add(OK, f"no ASR stack in account {account}, {region}")


def has_credentials(session: Any) -> bool:
    return session.get_credentials() is not None


def run(args: Any, out: TextIO, session: Any = None) -> int:
    """``asr preflight``: 0 when nothing failed, 1 when a check failed."""
    plan = plan_from(args)
    report = Report()
    offline(plan, report)
    if args.offline:
        report.add(SKIP, "AWS checks skipped (--offline): " + "; ".join(ONLINE_CHECKS))
    else:
        if session is None:
            import boto3

            session = boto3.Session()
        if has_credentials(session):
            online(plan, report, session)
        else:
            report.add(SKIP, "no AWS credentials: skipped " + "; ".join(ONLINE_CHECKS))
    report.render(out)
    return 1 if report.failed else 0
