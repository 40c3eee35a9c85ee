"""The ``asr`` command: look at what the solution would do, offline.

asr runbooks                     list every remediation runbook and what it changes
asr runbook ASR-<Name>           a runbook's parameters, steps and the IAM permissions of its role
asr explain FINDING.json|-|ID    what ASR would do with a finding (or an example finding of a control)
asr simulate FINDING.json|-      remediate a finding end to end on emulated AWS and print the trace
asr controls [STANDARD] [--json|--markdown]   the controls each playbook remediates
asr cfct-manifest --admin-account ID --namespace NS --regions R1,R2 [--ous ...]   a CfCT manifest.yaml
asr preflight --admin-account ID --regions R1,R2 [--member-accounts ...|--ous ...]   what a deploy needs
asr --version
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from asr import documents, solution
from asr.history import add_history_command
from asr.playbooks import data as playbooks
from asr.policy.cli import add_policy_commands


class UsageError(Exception):
    """Bad input on the command line; the message names the value."""


def _summary(description: str) -> str:
    """First sentence of the "What does this document do?" section."""
    match = re.search(r"What does this document do\?\s*\n+(.+?)(?:\n\n|$)", description, re.S)
    text = " ".join((match.group(1) if match else description).split())
    sentence = re.split(r"(?<=[.!])\s", text, maxsplit=1)[0]
    return sentence if len(sentence) <= 160 else sentence[:157] + "..."


def _resolve_runbook(name: str) -> str:
    known = documents.remediation_names()
    short = name.removeprefix(solution.DOCUMENT_PREFIX)
    if short in known:
        return short
    close = difflib.get_close_matches(short, known, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(solution.remediation_document(c) for c in close)}?" if close else ""
    raise UsageError(f"runbook {name!r} is not one of the {len(known)} ASR remediation runbooks{hint}")


def cmd_runbooks(_args: argparse.Namespace, out: TextIO) -> None:
    names = documents.remediation_names()
    width = max(len(solution.remediation_document(n)) for n in names)
    for name in names:
        description = documents.runbook_source(name).get("description", "")
        out.write(f"{solution.remediation_document(name):<{width}}  {_summary(description)}\n")
    out.write(f"\n{len(names)} runbooks. 'asr runbook <name>' shows one in full.\n")


def cmd_runbook(args: argparse.Namespace, out: TextIO) -> None:
    name = _resolve_runbook(args.runbook)
    doc = documents.runbook_source(name)
    out.write(
        f"{solution.remediation_document(name)}  (runs as role {solution.remediation_role(name, '<namespace>')})\n\n"
    )
    out.write(doc.get("description", "").strip() + "\n\nParameters:\n")
    for pname, param in (doc.get("parameters") or {}).items():
        constraint = param.get("allowedPattern") or (
            f"one of {param['allowedValues']}" if "allowedValues" in param else ""
        )
        default = f" default={param['default']!r}" if "default" in param else " (required)"
        out.write(f"  {pname}: {param.get('type', 'String')}{default}\n")
        if constraint:
            out.write(f"      must match: {constraint}\n")
    out.write("\nSteps:\n")
    for step in doc.get("mainSteps") or []:
        out.write(f"  {step['name']}: {step['action']}")
        if step.get("description"):
            out.write(f" -- {' '.join(str(step['description']).split())}")
        out.write("\n")
    perms = documents.permissions(name)
    out.write("\nIAM permissions of its role (besides the base policy every remediation role has):\n")
    for stmt in perms.statements:
        out.write(f"  allow {', '.join(stmt.actions)}\n      on {', '.join(stmt.resources)}\n")
        if stmt.conditions:
            out.write(f"      when {stmt.conditions}\n")
        if stmt.justification:
            out.write(f"      why *: {stmt.justification}\n")
    for role in perms.service_roles:
        out.write(f"\nService role {solution.service_role(role.name, '<namespace>')} (trusted by {role.principal})\n")


def _standards(arg: str | None) -> list[playbooks.Standard]:
    keys = playbooks.STANDARD_KEYS
    if arg:
        wanted = arg.upper()
        if wanted not in keys:
            raise UsageError(f"standard {arg!r} is not one of {', '.join(keys)}")
        keys = (wanted,)
    return [playbooks.load_standard(key) for key in keys]


def control_entries(standards: Sequence[playbooks.Standard]) -> list[dict[str, Any]]:
    """One object per playbook entry: what ``asr controls --json`` prints."""
    from asr.controls.mapping import security_control

    rows = []
    for std in standards:
        for control in std.entries:
            target = std.control(control.remap) if control.remap else control
            remediation = playbooks.remediations()[target.remediation]
            rows.append(
                {
                    "playbook": std.key,
                    "standard": std.short_name,
                    "standard_long_name": std.long_name,
                    "standard_version": std.version,
                    "control": control.control_id,
                    "security_control": security_control(std.key, control.control_id),
                    "remapped_to": control.remap,
                    "control_runbook": std.control_runbook(target.control_id),
                    "remediation": remediation.name,
                    "remediation_runbook": remediation.document,
                    "scope": target.scope,
                    "metric_filter": control.metric_filter,
                    "auto_trigger_rule": solution.auto_trigger_rule(std.short_name, std.version, control.control_id),
                    "auto_trigger_parameter": solution.auto_trigger_parameter(
                        std.short_name, std.version, control.control_id
                    ),
                    "added": control.added,
                }
            )
    return rows


def controls_markdown(standards: Sequence[playbooks.Standard]) -> str:
    """The coverage page: a summary table, then one table per playbook."""
    rows = control_entries(standards)
    lines = [
        "# Controls ASR remediates",
        "",
        "<!-- Generated by `asr controls --markdown`: do not edit by hand. -->",
        "",
        f"{len(rows)} control entries in {len(standards)} playbooks, "
        f"{len({r['remediation_runbook'] for r in rows})} remediation runbooks.",
        "",
        "| Playbook | Standard | Version | Controls | Control runbooks | Remapped |",
        "| --- | --- | --- | ---: | ---: | ---: |",
    ]
    for std in standards:
        lines.append(
            f"| {std.key} | {std.title} | {std.version} | {len(std.entries)} | {len(std.own())} | {len(std.remaps())} |"
        )
    for std in standards:
        lines += [
            "",
            f"## {std.key}: {std.title}",
            "",
            f"Findings of `{std.long_name}` {std.version}. Control runbooks `{std.control_runbook('<control>')}`; "
            f"AutoTrigger rules `{solution.auto_trigger_rule(std.short_name, std.version, '<control>')}` "
            "(disabled by default).",
            "",
            "| Control | Security Hub control | Runbook | Remediation | Scope | AutoTrigger parameter |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for row in (r for r in rows if r["playbook"] == std.key):
            runbook = f"`{row['control_runbook']}`" + (
                f" (remapped to {row['remapped_to']})" if row["remapped_to"] else ""
            )
            lines.append(
                f"| {row['control']} | {row['security_control']} | {runbook} | `{row['remediation_runbook']}` "
                f"| {row['scope']} | `{row['auto_trigger_parameter']}` |"
            )
    return "\n".join(lines) + "\n"


def cmd_controls(args: argparse.Namespace, out: TextIO) -> None:
    standards = _standards(args.standard)
    if args.json:
        out.write(json.dumps(control_entries(standards), indent=2) + "\n")
        return
    if args.markdown:
        out.write(controls_markdown(standards))
        return
    for std in standards:
        out.write(
            f"{std.key}: {std.title} ({std.long_name} {std.version}), {len(std.entries)} controls, "
            f"{len(std.own())} runbooks\n"
        )
        for control in std.entries:
            if control.remapped:
                what = f"-> {control.remap} (runs {std.control_runbook(control.remap)})"
            else:
                what = f"{std.control_runbook(control.control_id)} -> {control.remediation} ({control.scope})"
            out.write(f"  {control.control_id:<18} {what}\n")


def _playbook_keys(value: str) -> list[str] | None:
    """``--playbooks``: None for every playbook."""
    from asr import explain

    text = value.strip()
    if text.lower() == "all":
        return None
    if text.lower() == "default":
        return list(explain.LOADED_BY_DEFAULT)
    keys = [k.strip().upper() for k in text.split(",") if k.strip()]
    bad = [k for k in keys if k not in playbooks.STANDARD_KEYS]
    if bad or not keys:
        raise UsageError(
            f"--playbooks {value!r}: {', '.join(repr(b) for b in bad) or 'nothing'} is not a playbook "
            f"(use all, default, or a comma-separated list of {', '.join(playbooks.STANDARD_KEYS)})"
        )
    return keys


def _not_a_file(arg: str) -> UsageError:
    """The error for an explain argument that is neither a file nor a control id."""
    short = arg.removeprefix(solution.DOCUMENT_PREFIX)
    if short in documents.remediation_names():
        return UsageError(
            f"{arg!r} is a remediation runbook, not a finding: 'asr runbook {solution.remediation_document(short)}' "
            "shows its parameters, steps and IAM permissions; 'asr explain' takes a finding file, - (stdin) or a "
            "control id"
        )
    for std in playbooks.standards():
        for control in std.own():
            if std.control_runbook(control.control_id) == arg:
                return UsageError(
                    f"{arg!r} is a control runbook, not a finding: 'asr explain {std.key}:{control.control_id}' "
                    "explains an example finding of its control"
                )
    return UsageError(
        f"cannot read finding file {arg!r}: no such file, and it is not a control id of any playbook "
        "('asr controls' lists them)"
    )


def cmd_explain(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    from asr import explain

    namespace_ok = re.fullmatch(solution.NAMESPACE_PATTERN, args.namespace, re.ASCII)
    if args.namespace != explain.NAMESPACE_PLACEHOLDER and not namespace_ok:
        raise UsageError(
            f"--namespace {args.namespace!r} is not a member-roles Namespace "
            "(3-9 of a-z 0-9 -, starting and ending with a letter or digit)"
        )
    loaded = _playbook_keys(args.playbooks)
    event_type = explain.TRIGGERS[args.trigger]
    items: list[explain.Item] = []
    for arg in args.inputs:
        if arg == "-" or os.path.exists(arg):
            try:
                label, document = explain.read_json(arg, stdin)
                items += explain.items_of(document, label, event_type)
            except explain.InputError as err:
                raise UsageError(str(err)) from None
            continue
        entries = explain.control_reference(arg)
        if entries is None:
            raise _not_a_file(arg)
        for std, control in entries:
            source = f"example finding of {std.key} {control.control_id}"
            items.append(explain.Item(explain.example_finding(std, control), event_type, source))
    results = [
        explain.explain(item.raw, item.event_type, namespace=args.namespace, playbooks=loaded, source=item.source)
        for item in items
    ]
    if args.json:
        out.write(json.dumps([r.to_json() for r in results], indent=2) + "\n")
    else:
        out.write(explain.render_text(results))
    return 0 if all(r.outcome == explain.WOULD_REMEDIATE for r in results) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="asr", description="Automated Security Response on AWS, offline.")
    parser.add_argument("--version", action="version", version=f"asr {solution.VERSION} ({solution.SOLUTION_NAME})")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("runbooks", help="list every remediation runbook").set_defaults(func=cmd_runbooks)
    runbook = sub.add_parser("runbook", help="show a runbook's parameters, steps and IAM permissions")
    runbook.add_argument("runbook", help="ASR-<Name> or <Name>")
    runbook.set_defaults(func=cmd_runbook)
    explain = sub.add_parser(
        "explain",
        help="what ASR would do with a finding, without running anything",
        description=(
            "Explain, offline, what ASR would do with each finding: standard, control, remap, runbooks, the "
            "account, Region and resource remediated, the roles, the AutoTrigger rule, or the outcome that stops "
            "it. Exit 0 when every finding would be remediated, 1 when one would not, 2 on bad input."
        ),
    )
    explain.add_argument(
        "inputs",
        nargs="+",
        metavar="FINDING",
        help=(
            'a JSON file (an ASFF finding, a list of them, {"findings": [...]} or a Security Hub EventBridge '
            "event), - for stdin, or a control id (EC2.4, SC:EC2.4, CIS120:1.5) for an example finding of it"
        ),
    )
    explain.add_argument("--json", action="store_true", help="print a JSON list, one object per finding")
    explain.add_argument(
        "--namespace", default="<namespace>", help="Namespace of the member-roles stack (role names end with it)"
    )
    explain.add_argument(
        "--playbooks",
        default="all",
        help=(
            "playbooks your deployment loads: all (default), default (the stacks' defaults: SC only), "
            f"or a list such as SC,AFSBP (of {', '.join(playbooks.STANDARD_KEYS)})"
        ),
    )
    explain.add_argument(
        "--trigger",
        choices=("auto", "custom-action"),
        default="auto",
        help=(
            "how findings given without their event arrive: auto (an AutoTrigger rule, 'Security Hub Findings - "
            "Imported', the default) or custom-action ('Remediate with ASR')"
        ),
    )
    explain.set_defaults(func=cmd_explain)
    controls = sub.add_parser("controls", help="list the controls each playbook remediates")
    controls.add_argument("standard", nargs="?", help=f"one of {', '.join(playbooks.STANDARD_KEYS)}")
    form = controls.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="one JSON object per control entry")
    form.add_argument("--markdown", action="store_true", help="the coverage page, as Markdown tables")
    controls.set_defaults(func=cmd_controls)
    _add_deploy_commands(sub)
    _add_simulate_command(sub)  # asr simulate (asr/simulate.py)
    add_policy_commands(sub)  # asr policy ... (asr/policy/cli.py)
    add_history_command(sub)  # asr history (asr/history.py)
    return parser


def cmd_cfct_manifest(args: argparse.Namespace, out: TextIO) -> None:
    from asr import cfct

    text = cfct.run(args)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
        out.write(f"wrote {args.output}\n")
    else:
        out.write(text)


def cmd_preflight(args: argparse.Namespace, out: TextIO) -> int:
    from asr import preflight

    return preflight.run(args, out)


def _add_deploy_commands(sub: Any) -> None:
    """``asr cfct-manifest`` and ``asr preflight`` (asr/cfct.py, asr/preflight.py)."""
    parameter_help = (
        "[STACK:]KEY=VALUE, repeatable: a parameter of the admin, member-roles or member template "
        "(STACK: only that one; without it, every one of the three that has KEY)"
    )
    cfct = sub.add_parser(
        "cfct-manifest",
        help="write a Customizations for Control Tower manifest.yaml for the admin, member-roles and member stacks",
        description=(
            "Write a CfCT manifest (version 2021-03-15) with every parameter of the built templates "
            "(deployment/global-s3-assets, or --templates)."
        ),
    )
    cfct.add_argument("--admin-account", required=True, help="Security Hub admin account id (SecHubAdminAccount)")
    cfct.add_argument("--namespace", required=True, help="Namespace of the member and member-roles stacks")
    cfct.add_argument("--regions", required=True, help="comma-separated Regions of the member stack")
    cfct.add_argument(
        "--home-region", help="CfCT home Region and the member-roles Region (default: first of --regions)"
    )
    cfct.add_argument("--admin-region", help="Region of the admin stack (default: the home Region)")
    cfct.add_argument("--ous", help="comma-separated OU names (nested: Parent:Child) for member-roles and member")
    cfct.add_argument("--accounts", help="comma-separated account ids for member-roles and member (admin added)")
    cfct.add_argument("--parameter", action="append", metavar="[STACK:]KEY=VALUE", help=parameter_help)
    cfct.add_argument("--bucket", help="bucket base the templates were built for (checked against them)")
    cfct.add_argument("--version", help="version the templates were built as (checked against them)")
    cfct.add_argument("--name-prefix", default="asr", help="prefix of the resource names (default: asr)")
    cfct.add_argument("--templates", help="folder of built templates (default: deployment/global-s3-assets)")
    cfct.add_argument("-o", "--output", help="write to this file instead of stdout")
    cfct.set_defaults(func=cmd_cfct_manifest)

    pre = sub.add_parser(
        "preflight",
        help="what a deployment needs, checked offline from the templates and, with credentials, in AWS",
        description=(
            "Print what a deployment needs and check it: parameter values against the built templates, "
            "Security Hub consolidated findings and the playbooks to load, account/OU/Region lists; with AWS "
            "credentials, read-only checks (Security Hub, delegated admin, StackSets trusted access, existing "
            "ASR stacks). Exit 0 when no check failed, 1 when one did, 2 on bad input."
        ),
    )
    pre.add_argument("--admin-account", required=True, help="Security Hub admin account id")
    pre.add_argument("--regions", required=True, help="comma-separated Regions to remediate in")
    pre.add_argument("--admin-region", help="Security Hub aggregation Region (default: first of --regions)")
    pre.add_argument("--member-accounts", help="comma-separated member account ids")
    pre.add_argument("--ous", help="comma-separated OU ids (ou-xxxx-xxxxxxxx) for service-managed StackSets")
    pre.add_argument("--namespace", help="Namespace of the member and member-roles stacks")
    pre.add_argument(
        "--playbooks", help=f"playbooks to load, e.g. SC or AFSBP,CIS140 (of {', '.join(playbooks.STANDARD_KEYS)})"
    )
    pre.add_argument(
        "--consolidated-findings",
        choices=("on", "off", "unknown"),
        default="unknown",
        help="Security Hub consolidated control findings (on: load SC only)",
    )
    pre.add_argument("--parameter", action="append", metavar="[STACK:]KEY=VALUE", help=parameter_help)
    pre.add_argument("--templates", help="folder of built templates (default: deployment/global-s3-assets)")
    pre.add_argument("--offline", action="store_true", help="make no AWS call even with credentials")
    pre.set_defaults(func=cmd_preflight)


def cmd_simulate(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    from asr import explain, simulate

    namespace_ok = re.fullmatch(solution.NAMESPACE_PATTERN, args.namespace, re.ASCII)
    if not namespace_ok:
        raise UsageError(
            f"--namespace {args.namespace!r} is not a member-roles Namespace "
            "(3-9 of a-z 0-9 -, starting and ending with a letter or digit)"
        )
    try:
        return simulate.run(
            args.inputs, as_json=args.json, namespace=args.namespace, out=out, err=err, stdin=stdin, quiet=args.quiet
        )
    except (explain.InputError, simulate.SimulationInputError) as exc:
        raise UsageError(str(exc)) from None


def _add_simulate_command(sub: Any) -> None:
    simulate = sub.add_parser(
        "simulate",
        help="remediate a finding end to end on emulated AWS (moto), offline, and print the trace",
        description=(
            "Build an emulated admin and member account from the synthesized templates, seed the resource the "
            "finding describes in its noncompliant state, run the orchestrator on the finding and print what "
            "happened: states, automations and steps, the resource before -> after, SNS messages, finding "
            "updates, the control's verdict. Exit 0 when every finding ends SUCCESS with its control PASSED, "
            "1 on another outcome, 2 on bad input. Progress goes to stderr."
        ),
    )
    simulate.add_argument(
        "inputs",
        nargs="+",
        metavar="FINDING",
        help='a JSON file (an ASFF finding, a list of them, {"findings": [...]} or a Security Hub EventBridge '
        "event) or - for stdin; a bare finding arrives as the 'Remediate with ASR' custom action",
    )
    simulate.add_argument("--json", action="store_true", help="print the trace as one JSON object per finding")
    simulate.add_argument(
        "--namespace", default="sim", help="Namespace the emulated member-roles stack is deployed with (default sim)"
    )
    simulate.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    simulate.set_defaults(func=cmd_simulate)


def _deploy_errors() -> type[Exception]:
    from asr.preflight import PreflightError

    return PreflightError


def main(
    argv: Sequence[str] | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    stdin: TextIO = sys.stdin,
) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.func is cmd_explain:
            return cmd_explain(args, out, stdin)
        if args.func is cmd_preflight:
            return cmd_preflight(args, out)
        if args.func is cmd_simulate:
            return cmd_simulate(args, out, err, stdin)
        return args.func(args, out) or 0  # asr policy commands return their exit code
    except (UsageError, _deploy_errors()) as exc:
        err.write(f"asr: error: {exc}\n")
        return 2
    except BrokenPipeError:  # `asr runbooks | head`
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
