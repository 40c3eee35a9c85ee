"""``asr simulate``: a finding remediated end to end on emulated AWS, offline, with a readable trace.

For each finding (the input shapes of ``asr explain``):

1. ``asr explain`` decides the playbook, control, runbooks, account and Region; a finding it cannot
   take to a runbook, or whose control has no seeder (``asr.simulator.seeds``), is bad input (exit 2);
2. an admin account and the member account are built on moto from our synthesized templates
   (``asr.simulator.orchestration``): the admin template's state machine, queue, table, topic and
   Lambdas (run in-process), the admin playbook stack's parameters; the member-roles template's
   roles, the member template's parameters and key, and the SSM documents of the runbook and member
   playbook templates it nests. Every AWS call of one of our roles is checked against that role's
   policies as synthesized (``asr.iam``);
3. the control's noncompliant resource is seeded in the member account. Seeders name their own
   resources, so the finding's ``Resources[0]`` is rewritten to the seeded resource (the trace says so);
4. the finding is imported into the emulated Security Hub and the orchestrator runs on the event
   (the "Remediate with ASR" custom action for a bare finding; an event's own detail-type);
5. the trace: states entered, automations and their steps, the resource's state before -> after,
   SNS messages, finding updates, the control evaluator's verdict after, IAM checks, the outcome.

Exit 0 only when every finding ends SUCCESS, its control is judged PASSED and no IAM call was
denied; 1 on another outcome; 2 on bad input. Nothing sleeps for real: the orchestrator's waits are
configured to 0 and the runner's waits run on a fake clock.
"""

from __future__ import annotations

import copy
import difflib
import io
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from botocore.exceptions import ClientError, ParamValidationError

from asr import explain, solution

OUTCOME_SUCCESS = "SUCCESS"
PASSED = "PASSED"
#: The Namespace the emulated member-roles stack is deployed with (role names end with it).
DEFAULT_NAMESPACE = "sim"


class SimulationInputError(ValueError):
    """A finding ``asr simulate`` cannot run (exit 2); the message names the field and value."""


@dataclass
class Simulation:
    """What one simulated finding did: the ``--json`` object."""

    finding_id: str | None
    source: str
    event_type: str
    playbook: str | None = None
    control: str | None = None
    security_control: str | None = None
    control_runbook: str | None = None
    remediation_runbook: str | None = None
    account: str | None = None
    region: str | None = None
    resource: dict[str, Any] = field(default_factory=dict)
    rewritten: dict[str, Any] | None = None
    deployed: dict[str, Any] = field(default_factory=dict)
    states: list[str] = field(default_factory=list)
    execution_status: str | None = None
    automations: list[dict[str, Any]] = field(default_factory=list)
    state_before: Any = None
    state_after: Any = None
    verdict_before: dict[str, str] = field(default_factory=dict)
    verdict_after: dict[str, str] = field(default_factory=dict)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    finding_before: dict[str, Any] = field(default_factory=dict)
    finding_after: dict[str, Any] = field(default_factory=dict)
    iam: dict[str, Any] = field(default_factory=dict)
    lambda_logs: list[str] = field(default_factory=list)
    outcome: str = ""
    message: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            self.outcome == OUTCOME_SUCCESS
            and self.verdict_after.get("status") == PASSED
            and not self.iam.get("denied")
        )

    @property
    def resource_changed(self) -> bool:
        return self.state_before != self.state_after

    def to_json(self) -> dict[str, Any]:
        return {
            "finding_id": self.finding_id,
            "source": self.source,
            "event_type": self.event_type,
            "playbook": self.playbook,
            "control": self.control,
            "security_control": self.security_control,
            "control_runbook": self.control_runbook,
            "remediation_runbook": self.remediation_runbook,
            "account": self.account,
            "region": self.region,
            "resource": self.resource,
            "finding_rewritten": self.rewritten,
            "deployed": self.deployed,
            "states": self.states,
            "execution_status": self.execution_status,
            "automations": self.automations,
            "resource_state": {
                "before": self.state_before,
                "after": self.state_after,
                "changed": self.resource_changed,
            },
            "verdict_before": self.verdict_before,
            "verdict_after": self.verdict_after,
            "sns_messages": self.notifications,
            "finding_updates": {"before": self.finding_before, "after": self.finding_after},
            "iam": self.iam,
            "lambda_logs": self.lambda_logs,
            "outcome": self.outcome,
            "message": self.message,
            "ok": self.ok,
            "seconds": round(self.seconds, 2),
        }


Progress = Callable[[str], None]


def _quiet(_line: str) -> None:
    return None


# --- deciding what to run ------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    explanation: explain.Explanation
    security_control: str
    event_type: str


def plan(item: explain.Item, namespace: str) -> Plan:
    """What to seed and run for one finding; ``SimulationInputError`` when it cannot be simulated."""
    from asr.controls.mapping import security_control
    from asr.simulator import seeds

    x = explain.explain(item.raw, item.event_type, namespace=namespace, source=item.source)
    where = f"{item.source}: finding {x.finding_id or '(no Id)'}"
    if x.control_runbook is None or x.playbook is None or x.control is None:
        raise SimulationInputError(f"{where}: {x.outcome}: {x.message}")
    if x.outcome == "LAMBDA_ERROR" or x.outcome == "FAILED":
        raise SimulationInputError(f"{where}: {x.outcome}: {x.message}")
    sc = security_control(x.playbook, x.control)
    if (sc, "default") not in seeds.load_all():
        raise SimulationInputError(
            f"{where}: control {x.playbook} {x.control} (security control {sc}, resource type "
            f"{x.resource_type or 'none'}) has no seeder in asr/simulator/seeds: asr simulate cannot build its "
            "noncompliant resource ('asr explain' shows what ASR would do with it)"
        )
    return Plan(x, sc, item.event_type)


# --- one simulation -------------------------------------------------------------------------


def _verdict(sc: str, session: Any, resource: Any, parameters: Any) -> dict[str, str]:
    from asr.controls import EvaluationError, evaluate

    try:
        verdict = evaluate(sc, session, resource, parameters or None)
    except EvaluationError as err:
        return {"status": "UNREADABLE", "reason": str(err), "resource": resource.id}
    return {"status": str(verdict.status), "reason": verdict.reason, "resource": resource.id}


def _verdict_after(sc: str, session: Any, seeded: Any) -> dict[str, str]:
    """The control's verdict once the remediation ran: on the resource, or on what replaced it."""
    if not seeded.replaced:
        return _verdict(sc, session, seeded.resource, seeded.parameters)
    successor = seeded.successor()
    if successor is not None:
        verdict = _verdict(sc, session, successor, seeded.parameters)
        verdict["reason"] = f"replacement {successor.id}: {verdict['reason']}"
        return verdict
    if not seeded.exists():
        return {
            "status": "DELETED",
            "reason": f"{seeded.resource.id} no longer exists: Security Hub archives its finding",
            "resource": seeded.resource.id,
        }
    verdict = _verdict(sc, session, seeded.resource, seeded.parameters)
    if seeded.pending is not None:
        verdict["reason"] += f" (pending: {seeded.pending()})"
    return verdict


def _state(seeded: Any) -> Any:
    try:
        return json.loads(json.dumps(seeded.state(), default=str))
    except Exception as err:  # the resource may be gone: that is its state
        return {"unreadable": f"{type(err).__name__}: {err}"}


def _rewrite(raw: dict[str, Any], resource: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The finding naming the seeded resource; what was rewritten (None: nothing)."""
    finding = copy.deepcopy(raw)
    first = finding["Resources"][0]
    before = {"Id": first.get("Id"), "Type": first.get("Type"), "Region": first.get("Region")}
    after = {"Id": resource.id, "Type": resource.type, "Region": resource.region}
    first.update(after)
    first["Partition"] = resource.partition
    dropped = "Details" in first
    first.pop("Details", None)
    if before == after and not dropped:
        return finding, None
    return finding, {"from": before, "to": after, "details_dropped": dropped}


def _finding_view(stored: dict[str, Any]) -> dict[str, Any]:
    return {
        "workflow": (stored.get("Workflow") or {}).get("Status"),
        "note": (stored.get("Note") or {}).get("Text"),
        "note_by": (stored.get("Note") or {}).get("UpdatedBy"),
    }


def _automations(runner: Any) -> list[dict[str, Any]]:
    out = []
    for e in runner.executions:
        out.append(
            {
                "id": e.automation_execution_id,
                "document": e.document_name,
                "account": e.account_id,
                "region": e.region,
                "role": e.assumed_role,
                "status": str(e.status),
                "failure": e.failure_message,
                "parent": e.parent_automation_execution_id,
                "steps": [
                    {
                        "name": s.step_name,
                        "action": s.action,
                        "status": str(s.status),
                        "failure": s.failure_message,
                        "children": [c.automation_execution_id for c in s.child_executions],
                    }
                    for s in e.step_executions
                ],
            }
        )
    return out


def _enforcer(namespace: str, playbook: str, progress: Progress) -> Any:
    """The IAM enforcer over the roles of the same synthesized templates the accounts are built from."""
    from asr.iam.enforcer import Enforcer
    from asr.iam.roles import SynthesizedRoles, TemplateSource
    from asr.simulator.orchestration import ADMIN
    from asr.simulator.orchestration import templates as synthesized
    from asr.simulator.orchestration.world import member_templates

    playbook_admin = solution.playbook_admin_template(playbook)
    # every template of the simulation, in one synthesis when not cached
    wanted = [synthesized.ADMIN, playbook_admin, *member_templates((playbook,))]
    found = synthesized.templates(wanted, progress=progress)
    sources = [
        TemplateSource(
            name,
            found[name],
            [parameters],
            synthesized.custom_resource_results(found[name]),
        )
        for name, parameters in (
            (synthesized.MEMBER_ROLES, {"SecHubAdminAccount": ADMIN, "Namespace": namespace}),
            (synthesized.ADMIN, {}),
            (playbook_admin, {}),
        )
    ]
    return Enforcer(SynthesizedRoles(sources))


def auto_trigger_input(finding: dict[str, Any]) -> dict[str, Any]:
    """What a playbook's AutoTrigger rule hands the orchestrator for an imported finding: its input
    transformer's template (asr/playbooks/stacks.py) filled in."""
    from asr.playbooks.stacks import ORCHESTRATOR_INPUT_TEMPLATE

    text = ORCHESTRATOR_INPUT_TEMPLATE.replace("<detail-type>", json.dumps(solution.EVENT_IMPORTED))
    return json.loads(text.replace("<findings>", json.dumps([finding])))


def _capture_output(patches: Any, into: io.StringIO) -> None:
    """Send what our Lambda handlers log and what scripts print to ``into`` until the patches are undone."""
    import importlib
    import logging
    import pkgutil

    import lambdas.orchestrator as package

    for info in pkgutil.iter_modules(package.__path__):  # their loggers bind sys.stdout when imported
        importlib.import_module(f"{package.__name__}.{info.name}")
    streams = {id(sys.stdout), id(sys.__stdout__)}
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and id(handler.stream) in streams:
                patches.setattr(handler, "stream", into)
    patches.setattr(sys, "stdout", into)
    # moto's Step Functions interpreter logs every failed state at ERROR: the trace reports the states
    patches.setattr(logging.getLogger("moto.stepfunctions"), "disabled", True)


def simulate_one(p: Plan, raw: dict[str, Any], *, namespace: str, progress: Progress = _quiet) -> Simulation:
    """Build the accounts, seed, run the orchestrator, judge. The emulation is undone on return."""
    from asr.simulator import DocumentRegistry, seeds
    from asr.simulator.findings import custom_action_event
    from asr.simulator.orchestration import Orchestration, Patches, emulated_aws

    started = time.monotonic()
    x = p.explanation
    sim = Simulation(
        x.finding_id,
        x.source,
        p.event_type,
        x.playbook,
        x.control,
        p.security_control,
        x.control_runbook,
        x.remediation_runbook,
        x.account,
        x.region,
    )
    account, region = x.account or "", x.region or ""
    enforcer = _enforcer(namespace, x.playbook or "", progress)
    logs = io.StringIO()
    with Patches() as patches, emulated_aws(patches), enforcer.installed():
        # The Lambdas' and scripts' output is what CloudWatch Logs would hold: kept for --json, off stdout.
        _capture_output(patches, logs)
        patches.callback(lambda: sim.lambda_logs.extend(logs.getvalue().splitlines()))
        registry = DocumentRegistry()
        registry.load_aws_documents()  # AWS-owned documents exist in every account
        with enforcer.bypass():  # CloudFormation's work, not a call of one of our roles
            progress("building the admin account from the admin template")
            world = Orchestration(patches, namespace=namespace, registry=registry)
            playbook = world.deploy_playbook(x.playbook or "", progress=progress)
            progress(f"deploying the member-roles and member templates in {account} {region}")
            member = world.deploy_member(account, region, playbooks=(x.playbook or "",), progress=progress)
            if (x.finding_account, x.resource_region) != (account, region):
                world.deploy_member(x.finding_account or "", x.resource_region or "", playbooks=(x.playbook or "",))
        sim.deployed = {
            "admin": [solution.TEMPLATE_FILES[solution.ADMIN_STACK], *playbook.stacks],
            "member": member.stacks,
            "member_roles": len(member.roles),
            "member_documents": len(member.documents),
            "member_parameters": sorted(member.parameters),
            "not_emulated": [f"{t} {i} ({k})" for t, i, k in member.not_emulated + playbook.not_emulated],
        }
        session = world.member(account, region)
        progress(f"seeding a noncompliant {p.security_control} resource in {account} {region}")
        seeded = seeds.seed(p.security_control, session, account, region)
        resource = seeded.resource
        sim.resource = {
            "id": resource.id,
            "type": resource.type,
            "account": resource.account,
            "region": resource.region,
        }
        sim.verdict_before = _verdict(p.security_control, session, resource, seeded.parameters)
        sim.state_before = _state(seeded)
        finding, sim.rewritten = _rewrite(raw, resource)
        try:
            world.import_finding(finding)
        except (ParamValidationError, ClientError) as err:  # as BatchImportFindings would refuse it in AWS
            raise SimulationInputError(
                f"{x.source}: finding {x.finding_id}: Security Hub's BatchImportFindings refuses it: {err}"
            ) from None
        sim.finding_before = _finding_view(world.finding(finding["Id"]))
        event = (
            auto_trigger_input(finding) if p.event_type == solution.EVENT_IMPORTED else custom_action_event([finding])
        )
        world.router.on_start = lambda acct, reg, doc: progress(f"automation {doc} started in {acct} {reg}")
        progress("running the orchestrator state machine")
        result = world.run(event)
        sim.states = result.states()
        sim.execution_status = result.status
        sim.automations = _automations(world.router.runner)
        sim.notifications = [
            {"status": n.get("Remediation_Status"), "severity": n.get("Severity"), "message": n.get("Message")}
            for n in world.notifications()
        ]
        sim.finding_after = _finding_view(world.finding(finding["Id"]))
        sim.state_after = _state(seeded)
        sim.verdict_after = _verdict_after(p.security_control, session, seeded)
        denied = [str(d) for d in enforcer.denials] + [f"not modeled: {m}" for m in enforcer.model_errors]
        sim.iam = {"requests": len(enforcer.records), "denied": denied}
    final = sim.notifications[-1] if sim.notifications else None
    sim.outcome = (final or {}).get("status") or f"STATE_MACHINE_{result.status}"
    sim.message = (final or {}).get("message") or ""
    sim.seconds = time.monotonic() - started
    return sim


# --- text ---------------------------------------------------------------------------------


def _diff(before: Any, after: Any) -> list[str]:
    a = json.dumps(before, indent=2, sort_keys=True, default=str).splitlines()
    b = json.dumps(after, indent=2, sort_keys=True, default=str).splitlines()
    if a == b:
        return ["    (unchanged)"]
    return ["    " + line for line in difflib.unified_diff(a, b, "before", "after", n=1, lineterm="")]


def render_text(sims: list[Simulation]) -> str:
    blocks = [_render_one(s) for s in sims]
    good = sum(1 for s in sims if s.ok)
    blocks.append(f"{len(sims)} finding{'s' if len(sims) != 1 else ''} simulated: {good} remediated and PASSED\n")
    return "\n".join(blocks)


def _render_one(s: Simulation) -> str:
    lines = [f"Simulation of finding {s.finding_id or '(no Id)'} ({s.source}, {s.event_type})"]
    lines.append(
        f"  Control          {s.playbook} {s.control} (security control {s.security_control}): "
        f"{s.control_runbook} -> {s.remediation_runbook}"
    )
    lines.append(f"  Member account   {s.account} Region {s.region}")
    d = s.deployed
    lines.append(
        f"  Deployed         admin: {', '.join(d.get('admin', []))}; member: {', '.join(d.get('member', []))} "
        f"({d.get('member_roles')} roles, {d.get('member_documents')} SSM documents)"
    )
    lines.append(f"  Seeded           {s.resource['type']} {s.resource['id']}")
    lines.append(f"                   before: {s.verdict_before.get('status')}: {s.verdict_before.get('reason')}")
    if s.rewritten:
        r = s.rewritten
        lines.append(
            f"  Finding rewritten  Resources[0] {r['from']['Type']} {r['from']['Id']} -> the seeded "
            f"{r['to']['Type']} {r['to']['Id']} (seeders name their own resources)"
            + ("; its Details were dropped" if r["details_dropped"] else "")
        )
    lines.append(f"  States entered   {' -> '.join(s.states)} ({s.execution_status})")
    lines.append("  Automations")
    children = {a["id"]: a for a in s.automations}
    roots = [a for a in s.automations if not a["parent"] or a["parent"] not in children]
    shown: set[str] = set()

    def automation(a: dict[str, Any], depth: int) -> None:
        if a["id"] in shown:
            return
        shown.add(a["id"])
        pad = "    " + "  " * depth
        role = f" as {a['role']}" if a["role"] else ""
        lines.append(f"{pad}{a['document']} in {a['account']} {a['region']}{role}: {a['status']}")
        if a["failure"]:
            lines.append(f"{pad}  failure: {a['failure']}")
        for step in a["steps"]:
            tail = f": {step['failure']}" if step["failure"] else ""
            lines.append(f"{pad}  {step['name']} ({step['action']}) {step['status']}{tail}")
            for child in step["children"]:
                if child in children:
                    automation(children[child], depth + 2)
        for other in s.automations:  # TargetLocations children hang under their aggregate
            if other["parent"] == a["id"]:
                automation(other, depth + 1)

    for a in roots:
        automation(a, 0)
    if not s.automations:
        lines.append("    (none started)")
    lines.append("  Resource state (before -> after)")
    lines += _diff(s.state_before, s.state_after)
    lines.append("  SNS messages")
    for n in s.notifications:
        lines.append(f"    {n['status']} ({n['severity']}): {n['message']}")
    if not s.notifications:
        lines.append("    (none)")
    fb, fa = s.finding_before, s.finding_after
    lines.append(f"  Finding          workflow {fb.get('workflow')} -> {fa.get('workflow')}")
    if fa.get("note") != fb.get("note"):
        lines.append(f"                   note: {fa.get('note')}")
    v = s.verdict_after
    lines.append(f"  Control after    {v.get('status')}: {v.get('reason')}")
    lines.append(
        f"  IAM              {s.iam.get('requests', 0)} requests checked, {len(s.iam.get('denied', []))} denied"
    )
    for denial in s.iam.get("denied", []):
        lines.append(f"                   denied: {denial}")
    lines.append(f"  Lambda logs      {len(s.lambda_logs)} lines (--json shows them)")
    lines.append(f"  Outcome          {s.outcome}{': ' + s.message if s.message and not s.ok else ''}")
    lines.append(f"  Result           {'OK' if s.ok else 'NOT OK'} in {s.seconds:.1f} s")
    return "\n".join(lines) + "\n"


# --- the command ------------------------------------------------------------------------------


def items(args_inputs: list[str], stdin: TextIO) -> list[explain.Item]:
    """The findings of the inputs; a bare finding arrives as the custom action's event."""
    found: list[explain.Item] = []
    for arg in args_inputs:
        label, document = explain.read_json(arg, stdin)
        found += explain.items_of(document, label, solution.EVENT_CUSTOM_ACTION)
    return found


def run(
    inputs: list[str],
    *,
    as_json: bool,
    namespace: str = DEFAULT_NAMESPACE,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    stdin: TextIO = sys.stdin,
    quiet: bool = False,
) -> int:
    """``asr simulate``: 0 when every finding is remediated and PASSED, 1 otherwise; input errors raise
    ``explain.InputError`` or ``SimulationInputError`` (the CLI prints them and exits 2)."""

    def progress(line: str) -> None:
        if not quiet:
            err.write(f"asr simulate: {line}\n")
            err.flush()

    found = items(inputs, stdin)
    from asr.simulator.orchestration.templates import cdk_quiet

    refused: SimulationInputError | None = None
    with cdk_quiet():  # explain reads the playbook stacks: the CDK starts its Node.js process
        try:
            plans = [(plan(item, namespace), item) for item in found]  # every input checked before any run
        except SimulationInputError as refusal:
            refused = refusal  # a refusal, not a failure of the block: the CDK's output stays hidden
    if refused is not None:
        raise refused
    sims = []
    for number, (p, item) in enumerate(plans, 1):
        progress(f"finding {number}/{len(plans)}: {p.explanation.finding_id}")
        sims.append(simulate_one(p, item.raw, namespace=namespace, progress=progress))
    if as_json:
        body = [s.to_json() for s in sims]
        out.write(json.dumps(body[0] if len(body) == 1 else body, indent=2, default=str) + "\n")
    else:
        out.write(render_text(sims))
    return 0 if all(s.ok for s in sims) else 1
