"""``asr policy validate|show|diff|check|apply``: the remediation policy, offline (apply: S3).

Exit codes: validate 0 valid (1 with --strict and warnings); diff 0 same, 1 different; check 0
when the policy lets every finding proceed, 1 when it stops one; apply 0 applied or unchanged;
2 everywhere for bad input (the message names the file, path and value).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import yaml

from asr.policy import document as doc
from asr.policy import evaluate as ev


def _usage(message: str) -> Exception:
    from asr.cli import UsageError

    return UsageError(message)


def _now(value: str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    try:
        return doc.parse_time(value, "--now", "command line")
    except doc.PolicyError:
        raise _usage(f"--now {value!r} is not an RFC 3339 timestamp with its zone (2026-01-01T00:00:00Z)") from None


def _load(path: str, now: dt.datetime | None) -> doc.Policy:
    try:
        return doc.load(path, now=now)
    except doc.PolicyError as err:
        raise _usage(str(err)) from None


def _warnings(policy: doc.Policy, out: TextIO) -> None:
    for warning in policy.warnings:
        out.write(f"warning: {warning}\n")


# --- validate / show -------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    policy = _load(args.file, _now(args.now))
    exemptions = sum(1 for _ in policy.exemptions())
    out.write(
        f"{args.file}: valid policy version {policy.version}, {len(policy.controls)} control(s), "
        f"{exemptions} exemption(s), sha256 {policy.sha256}\n"
    )
    for key, cid in policy.mapped.items():
        out.write(f"  {doc.child('controls', key)} -> {cid}\n")
    _warnings(policy, out)
    return 1 if args.strict and policy.warnings else 0


def cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    policy = _load(args.file, _now(args.now))
    normalized = policy.to_json()
    if args.json:
        out.write(json.dumps(normalized, indent=2, ensure_ascii=False) + "\n")
        return 0
    out.write(f"# {args.file}, normalized (sha256 {policy.sha256})\n")
    for key, cid in policy.mapped.items():
        out.write(f"# {doc.child('controls', key)} is control {cid}\n")
    for warning in policy.warnings:
        out.write(f"# warning: {warning}\n")
    out.write(yaml.safe_dump(normalized, sort_keys=False, allow_unicode=True, width=100))
    return 0


# --- diff ---------------------------------------------------------------------------------


def _identity(item: Any) -> str:
    """How a list item is named in a diff path: exemptions by their target, tags by key=value."""
    if isinstance(item, dict):
        for kind in ("resource", "resource_pattern", "tag"):
            if kind in item:
                target = item[kind]
                if isinstance(target, dict):
                    target = target["key"] + (f"={target['value']}" if "value" in target else "")
                return f"{kind}={target}"
        if "key" in item:
            return item["key"] + (f"={item['value']}" if "value" in item else "")
    return str(item)


def flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, leaf) pairs; list items keyed by identity (order does not change meaning)."""
    if isinstance(value, dict) and value:
        for key, sub in value.items():
            yield from flatten(sub, doc.child(path, key))
    elif isinstance(value, list) and value and path.rsplit(".", 1)[-1] != "on":
        seen: dict[str, int] = {}
        for item in value:
            name = _identity(item)
            seen[name] = seen.get(name, 0) + 1
            label = name if seen[name] == 1 else f"{name}#{seen[name]}"
            yield from (
                flatten(item, f"{path}[{label}]") if isinstance(item, dict) else iter([(f"{path}[{label}]", item)])
            )
    else:
        yield path, value


def diff(old: doc.Policy, new: doc.Policy) -> list[dict[str, Any]]:
    a, b = dict(flatten(old.to_json())), dict(flatten(new.to_json()))
    changes = []
    for path in sorted(set(a) | set(b)):
        if path not in b:
            changes.append({"op": "removed", "path": path, "old": a[path], "new": None})
        elif path not in a:
            changes.append({"op": "added", "path": path, "old": None, "new": b[path]})
        elif a[path] != b[path]:
            changes.append({"op": "changed", "path": path, "old": a[path], "new": b[path]})
    return changes


def cmd_diff(args: argparse.Namespace, out: TextIO) -> int:
    old, new = _load(args.old, None), _load(args.new, None)
    changes = diff(old, new)
    if args.json:
        out.write(json.dumps(changes, indent=2, ensure_ascii=False) + "\n")
        return 1 if changes else 0
    out.write(f"--- {args.old} (sha256 {old.sha256})\n+++ {args.new} (sha256 {new.sha256})\n")
    sign = {"removed": "-", "added": "+", "changed": "~"}
    for c in changes:
        if c["op"] == "changed":
            out.write(f"~ {c['path']}: {json.dumps(c['old'])} -> {json.dumps(c['new'])}\n")
        else:
            value = c["old"] if c["op"] == "removed" else c["new"]
            out.write(f"{sign[c['op']]} {c['path']}: {json.dumps(value, ensure_ascii=False)}\n")
    out.write(f"{len(changes)} change(s)\n" if changes else "no semantic change\n")
    return 1 if changes else 0


# --- check --------------------------------------------------------------------------------


def _tags_arg(values: list[str] | None) -> dict[str, str] | None:
    if values is None:
        return None
    tags = {}
    for value in values:
        key, sep, tag_value = value.partition("=")
        if not key or not sep:
            raise _usage(f"--tags {value!r} is not key=value")
        tags[key] = tag_value
    return tags


def check_findings(args: argparse.Namespace, stdin: TextIO) -> list[tuple[Any, ev.Decision | None, Any, str | None]]:
    """(facts, decision, explanation, error) per finding of ``args.finding``."""
    from asr import explain
    from asr.policy import facts as facts_mod
    from asr.policy import orgs

    now = _now(args.now)
    policy = _load(args.policy, now)
    resolver = None
    if args.ou_map:
        try:
            resolver = orgs.StaticOuResolver.load(args.ou_map)
        except doc.PolicyError as err:
            raise _usage(str(err)) from None
    tags = _tags_arg(args.tags)
    try:
        label, document = explain.read_json(args.finding, stdin)
        items = explain.items_of(document, label)
    except explain.InputError as err:
        raise _usage(str(err)) from None
    results = []
    for item in items:
        event_type = item.event_type
        initiator = {"manual": ev.MANUAL, "auto": ev.AUTO}[args.initiator] if args.initiator else None
        try:
            facts, x = facts_mod.from_finding(item.raw, event_type)
        except facts_mod.FactsError as err:
            raise _usage(f"{label}: {err}") from None
        try:
            decision = ev.decide(
                policy,
                facts,
                now=now,
                ou_resolver=resolver,
                tags=tags,
                initiator=initiator or facts_mod.initiator_of(event_type),
            )
        except (ev.DecisionInputError, orgs.OuResolutionError) as err:
            hint = " (give --ou-map FILE)" if "OU" in str(err) and resolver is None else ""
            hint += " (give --tags k=v ...)" if "tags" in str(err) and tags is None else ""
            raise _usage(f"{label}: {err}{hint}") from None
        results.append((facts, decision, x, None))
    return results


def render_check(results: list[tuple[Any, ev.Decision | None, Any, str | None]], policy_file: str) -> str:
    lines = []
    for facts, d, x, _ in results:
        assert d is not None
        lines.append(f"Finding {facts.finding_id or '(no Id)'}")

        def row(label: str, value: str) -> None:
            lines.append(f"  {label + ':':<12}{value}")

        row("Decision", d.outcome + (" (remediation may start)" if d.allowed else " (nothing runs)"))
        row("Rule", d.rule)
        row("Why", d.reason)
        control = d.control or "(no ASR control)"
        if facts.standard_control and facts.standard_control.split(":", 1)[1] != d.control:
            control += f" (finding {facts.standard_control})"
        row("Control", control)
        row("Resource", f"{facts.resource} in account {facts.account} Region {facts.region}")
        row("Initiator", d.initiator)
        if d.exemption is not None:
            e = d.exemption
            verb = "overridden" if d.overridden else "applies"
            row("Exemption", f"{e.path} {verb}: {e.target}; reason {e.reason!r}; owner {e.owner}; expires {e.expires}")
        for e in d.expired_exemptions:
            row("Expired", f"{e.path} ({e.target}, owner {e.owner}) expired {e.expires}: ignored")
        if d.ous is not None:
            row("OUs", " < ".join(d.ous) or "(none)")
        if d.tags_from is not None:
            row("Tags from", d.tags_from)
        r = d.retries
        row(
            "Retries",
            f"{r.attempts} attempt(s), backoff {r.backoff_seconds}s, on {'/'.join(r.on)}" if r.attempts > 1 else "none",
        )
        row("Deadline", doc.format_duration(d.deadline_seconds) or "none")
        row("Policy", f"{policy_file} version {d.policy_version} sha256 {d.policy_sha256}")
        row("Without it", f"{x.outcome}: {x.message}" if x.message else x.outcome)
        lines.append("")
    allowed = sum(1 for r in results if r[1] is not None and r[1].allowed)
    lines.append(f"{len(results)} finding(s): {allowed} may proceed, {len(results) - allowed} stopped by the policy")
    return "\n".join(lines) + "\n"


def cmd_check(args: argparse.Namespace, out: TextIO, stdin: TextIO | None = None) -> int:
    results = check_findings(args, stdin or sys.stdin)
    if args.json:
        payload = [
            {
                "finding_id": facts.finding_id,
                "facts": {**facts.__dict__, "tags": dict(facts.tags) if facts.tags is not None else None},
                "decision": d.to_json() if d else None,
                "without_policy": {"outcome": x.outcome, "message": x.message},
            }
            for facts, d, x, _ in results
        ]
        out.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(render_check(results, args.policy))
    return 0 if all(d is not None and d.allowed for _, d, _, _ in results) else 1


# --- apply --------------------------------------------------------------------------------


def cmd_apply(args: argparse.Namespace, out: TextIO) -> int:
    import boto3

    from asr.policy import store

    try:
        data = Path(args.file).read_bytes()
    except OSError as err:
        raise _usage(f"cannot read policy file {args.file!r}: {err.strerror or err}") from None
    s3 = boto3.client("s3", region_name=args.region) if args.region else boto3.client("s3")
    target = store.PolicyStore(s3, args.bucket, args.key)
    try:
        applied, policy = target.apply(data, now=_now(None))
    except doc.PolicyError as err:
        raise _usage(str(err)) from None
    except store.StoreError as err:
        raise _usage(str(err)) from None
    _warnings(policy, out)
    out.write(f"compiled for the orchestrator: s3://{target.bucket}/{store.compiled_key(target.key)}\n")
    if applied.changed:
        out.write(f"applied {args.file} to {target.where}: version {applied.version_id}, sha256 {applied.sha256}\n")
    else:
        out.write(f"unchanged: {target.where} version {applied.version_id} already holds sha256 {applied.sha256}\n")
    return 0


# --- wiring ---------------------------------------------------------------------------------


def add_policy_commands(sub: Any) -> None:
    """``asr policy ...`` on the ``asr`` parser's subparsers."""
    policy = sub.add_parser(
        "policy",
        help="the remediation policy: validate, show, diff, check a finding, apply to S3",
        description="The remediation policy document (docs/policy.md).",
    )
    cmds = policy.add_subparsers(dest="policy_command", required=True)
    now_help = "the time exemptions expire against (RFC 3339 with zone; default: now)"

    validate = cmds.add_parser("validate", help="validate a policy file (exit 0 valid, 2 invalid)")
    validate.add_argument("file")
    validate.add_argument("--now", help=now_help)
    validate.add_argument("--strict", action="store_true", help="exit 1 when there are warnings")
    validate.set_defaults(func=cmd_validate)

    show = cmds.add_parser("show", help="the normalized policy: defaults filled, per-standard ids mapped")
    show.add_argument("file")
    show.add_argument("--json", action="store_true")
    show.add_argument("--now", help=now_help)
    show.set_defaults(func=cmd_show)

    diff_cmd = cmds.add_parser("diff", help="semantic differences between two policies, by path (exit 1 if any)")
    diff_cmd.add_argument("old")
    diff_cmd.add_argument("new")
    diff_cmd.add_argument("--json", action="store_true")
    diff_cmd.set_defaults(func=cmd_diff)

    check = cmds.add_parser(
        "check",
        help="which rule of the policy decides for a finding, and why (exit 0 proceed, 1 stopped, 2 bad input)",
    )
    check.add_argument("finding", help="a finding JSON file (as asr explain takes), or - for stdin")
    check.add_argument("--policy", required=True, help="the policy file")
    check.add_argument("--tags", nargs="*", metavar="KEY=VALUE", help="the resource's tags when the finding has none")
    check.add_argument("--ou-map", help="YAML/JSON {child id: parent id} for accounts and OUs (as ListParents)")
    check.add_argument(
        "--initiator", choices=("manual", "auto"), help="manual (custom action) or auto (default: from the event)"
    )
    check.add_argument("--now", help=now_help)
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=cmd_check)

    apply = cmds.add_parser("apply", help="validate, then upload the policy to its versioned S3 object")
    apply.add_argument("file")
    apply.add_argument("--bucket", required=True, help="the admin account's policy bucket (versioning enabled)")
    apply.add_argument("--key", default="asr/policy.yaml", help="object key (default asr/policy.yaml)")
    apply.add_argument("--region", help="the bucket's Region (default: the AWS configuration's)")
    apply.set_defaults(func=cmd_apply)
