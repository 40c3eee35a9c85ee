"""The ``asr`` command: look at what the solution would do, offline.

asr runbooks                 list every remediation runbook and what it changes
asr explain ASR-<Name>       a runbook's parameters, steps and the IAM permissions of its role
asr controls [STANDARD]      the controls each playbook remediates
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Sequence
from typing import TextIO

from asr import documents, solution
from asr.playbooks import data as playbooks


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
    out.write(f"\n{len(names)} runbooks. 'asr explain <name>' shows one in full.\n")


def cmd_explain(args: argparse.Namespace, out: TextIO) -> None:
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


def cmd_controls(args: argparse.Namespace, out: TextIO) -> None:
    keys = playbooks.STANDARD_KEYS
    if args.standard:
        wanted = args.standard.upper()
        if wanted not in keys:
            raise UsageError(f"standard {args.standard!r} is not one of {', '.join(keys)}")
        keys = (wanted,)
    for key in keys:
        std = playbooks.load_standard(key)
        out.write(
            f"{key}: {std.title} ({std.long_name} {std.version}), {len(std.entries)} controls, "
            f"{len(std.own())} runbooks\n"
        )
        for control in std.entries:
            if control.remapped:
                what = f"-> {control.remap} (runs {std.control_runbook(control.remap)})"
            else:
                what = f"{std.control_runbook(control.control_id)} -> {control.remediation} ({control.scope})"
            out.write(f"  {control.control_id:<18} {what}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="asr", description="Automated Security Response on AWS, offline.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("runbooks", help="list every remediation runbook").set_defaults(func=cmd_runbooks)
    explain = sub.add_parser("explain", help="show a runbook's parameters, steps and IAM permissions")
    explain.add_argument("runbook", help="ASR-<Name> or <Name>")
    explain.set_defaults(func=cmd_explain)
    controls = sub.add_parser("controls", help="list the controls each playbook remediates")
    controls.add_argument("standard", nargs="?", help=f"one of {', '.join(playbooks.STANDARD_KEYS)}")
    controls.set_defaults(func=cmd_controls)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args, out)
    except UsageError as exc:
        err.write(f"asr: error: {exc}\n")
        return 2
    except BrokenPipeError:  # `asr runbooks | head`
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
