"""Every control entry, proven as Security Hub would judge it: FAILED before, PASSED after, the second
run changes nothing, nothing else changed.

For each (playbook, control) entry: seed the control's noncompliant shape (asr.simulator.seeds), the
control's evaluator (asr.controls, written from the AWS documentation) says FAILED; run the entry's
control runbook from a finding, as the member role, with the real remediation runbooks, under the
IAM enforcer; the evaluator says PASSED; run again: success, the resource's state unchanged, still
PASSED; the bystanders (what the remediation must not touch) are as they were.
Edge shapes of the consolidated controls run the same way; ``test_every_entry_has_a_seeder`` keeps
every entry covered.

Where the remediation replaces or removes the finding's resource (``Seeded.replaced``: EC2.4, RDS.4,
ECS.5, AutoScaling.3, Autoscaling.5, SecretsManager.3) "PASSED after" reads: the finding's resource is
gone (its evaluator cannot read it; Security Hub archives the finding of a deleted resource) or judged
NOT_APPLICABLE (a terminated instance, a task definition revision that is no longer the latest), and
what replaces it (``Seeded.successor()``) is PASSED. A secret scheduled for deletion is neither: it
stays, judged FAILED, until Secrets Manager deletes it (see asr/controls/secretsmanager.py); the proof
then requires the remediation's output to name the deletion date and the secret to be unreadable.
Shapes a remediation must refuse (``seeds.REFUSED``) are run too: the run fails naming why, and
nothing changes.
"""

from __future__ import annotations

import json

import boto3
import pytest

from asr.controls import EvaluationError, Resource, Status, evaluate
from asr.controls.mapping import security_control
from asr.playbooks import data
from asr.simulator import seeds
from asr.simulator.execution import Status as Run
from tests.conftest import ACCOUNT, REGION
from tests.playbooks.harness import client, finding_for, import_finding, real_registry, run_control

ENTRIES = [(s.key, c.control_id) for s in data.standards() for c in [*s.own(), *s.remaps()]]


def _seeded_entries() -> list[tuple[str, str, str]]:
    seeds.load_all()
    return [(k, c, security_control(k, c)) for k, c in ENTRIES if (security_control(k, c), "default") in seeds.SEEDERS]


def _edge_shapes() -> list[tuple[str, str]]:
    return sorted(key for key in seeds.load_all() if key[1] != "default" and key not in seeds.REFUSED)


def _refused_shapes() -> list[tuple[str, str]]:
    seeds.load_all()
    return sorted(seeds.REFUSED)


SEEDED = _seeded_entries()
EDGES = _edge_shapes()
REFUSALS = _refused_shapes()


@pytest.fixture
def world(aws):
    """The member account as the member stack leaves it: a real remediation key behind CMK_REMEDIATION_ARN."""
    arn = client("kms").create_key(Description="ASR remediation key")["KeyMetadata"]["Arn"]
    client("ssm").put_parameter(Name="/Solutions/SO0111/CMK_REMEDIATION_ARN", Value=arn, Type="String", Overwrite=True)
    return boto3.Session()


def _verdict(session: boto3.Session, control: str, seeded: seeds.Seeded) -> tuple[Status, str]:
    verdict = evaluate(control, session, seeded.resource, seeded.parameters or None)
    return verdict.status, verdict.reason


def _remediation_outputs(runner, control_run) -> str:
    """Every output of the automations the control runbook started (the remediation's), as text."""
    return json.dumps([e.outputs for e in runner.executions if e is not control_run], default=str)


def _judge_replaced(session: boto3.Session, sc: str, seeded: seeds.Seeded, outputs: str) -> str:
    """The verdicts, once the remediation replaced or removed the finding's resource; a summary to compare."""
    resource = seeded.resource
    if not seeded.exists():
        # Deleted: AWS Config records the deletion and Security Hub archives the finding. No verdict can
        # be read of a resource that is not there; the evaluator must say so, never PASSED.
        with pytest.raises(EvaluationError):
            evaluate(sc, session, resource, seeded.parameters or None)
        original = "gone"
    else:
        status, reason = _verdict(session, sc, seeded)
        if seeded.pending is not None:
            pending = seeded.pending()
            assert status is Status.FAILED, f"{sc}: a resource pending {pending} is still judged: {status} {reason}"
            assert pending in reason, f"{sc}: the verdict does not say what is pending ({pending}): {reason}"
            assert pending in outputs, f"{sc}: the remediation's output does not say {pending!r}: {outputs}"
        else:
            assert status is Status.NOT_APPLICABLE, f"{sc}: the replaced {resource.id} is still judged: {reason}"
        original = f"{status}"
    successor = seeded.successor()
    if successor is None:
        return original
    assert successor.id != resource.id, f"{sc}: the successor is the finding's resource itself"
    verdict = evaluate(sc, session, successor, seeded.parameters or None)
    assert verdict.status is Status.PASSED, (
        f"{sc}: the replacement {successor.id} is {verdict.status}: {verdict.reason}"
    )
    return f"{original}; {successor.id} PASSED"


def _prove(session: boto3.Session, key: str, control_id: str, sc: str, shape: str = "default") -> None:
    std = data.load_standard(key)
    entry = std.control(control_id)
    runbook_control = entry.remap or control_id
    seeded = seeds.seed(sc, session, ACCOUNT, REGION, shape=shape)
    status, reason = _verdict(session, sc, seeded)
    assert status is Status.FAILED, f"seeded {sc}/{shape} is not noncompliant: {reason}"
    bystanders = seeded.bystanders()
    resource: Resource = seeded.resource

    finding = finding_for(std, control_id, resource.id, resource_type=resource.type, account=ACCOUNT, region=REGION)
    import_finding(finding)
    runner, first = run_control(real_registry(), std, runbook_control, finding)
    assert first.status is Run.SUCCESS, first.failure_message
    if seeded.replaced:
        judged = _judge_replaced(session, sc, seeded, _remediation_outputs(runner, first))
    else:
        status, reason = _verdict(session, sc, seeded)
        assert status is Status.PASSED, (
            f"{key} {control_id} ({sc}/{shape}) reported success, control still {status}: {reason}"
        )
    state = seeded.state()

    again = finding_for(std, control_id, resource.id, resource_type=resource.type, account=ACCOUNT, region=REGION)
    import_finding(again)
    runner, second = run_control(real_registry(), std, runbook_control, again)
    assert second.status is Run.SUCCESS, second.failure_message
    assert seeded.state() == state, "the second run changed the resource"
    if seeded.replaced:
        assert _judge_replaced(session, sc, seeded, _remediation_outputs(runner, second)) == judged
    else:
        assert _verdict(session, sc, seeded)[0] is Status.PASSED
    assert seeded.bystanders() == bystanders, "the remediation changed what it must not touch"


@pytest.mark.parametrize(("key", "control_id", "sc"), SEEDED, ids=[f"{k}-{c}" for k, c, _ in SEEDED])
def test_entry_turns_its_control_passed(world, key, control_id, sc):
    _prove(world, key, control_id, sc)


@pytest.mark.parametrize(("sc", "shape"), EDGES, ids=[f"{c}-{s}" for c, s in EDGES])
def test_edge_shape_turns_its_control_passed(world, sc, shape):
    _prove(world, "SC", sc, sc, shape)


@pytest.mark.parametrize(("sc", "shape"), REFUSALS, ids=[f"{c}-{s}" for c, s in REFUSALS])
def test_refused_shape_fails_and_changes_nothing(world, sc, shape):
    """A shape the remediation must refuse: the run fails saying why; the resource, the bystanders and
    the verdict stay as they were."""
    std = data.load_standard("SC")
    seeded = seeds.seed(sc, world, ACCOUNT, REGION, shape=shape)
    before = _verdict(world, sc, seeded)
    state, bystanders = seeded.state(), seeded.bystanders()
    resource = seeded.resource
    finding = finding_for(std, sc, resource.id, resource_type=resource.type, account=ACCOUNT, region=REGION)
    import_finding(finding)
    _, run = run_control(real_registry(), std, sc, finding)
    assert run.status is Run.FAILED, f"{sc}/{shape} was not refused: {run.status}"
    assert seeds.REFUSED[(sc, shape)] in (run.failure_message or ""), run.failure_message
    assert seeded.state() == state, "the refused run changed the resource"
    assert seeded.bystanders() == bystanders, "the refused run changed what it must not touch"
    assert _verdict(world, sc, seeded) == before


REPLACED = ["EC2.4", "ECS.5", "AutoScaling.3", "Autoscaling.5", "RDS.4", "SecretsManager.3"]


@pytest.mark.parametrize("sc", REPLACED)
def test_the_replaced_resource_proof_fails_when_the_remediation_did_nothing(world, sc):
    """The judgement of a replaced resource is not vacuous: before any remediation it must fail."""
    seeded = seeds.seed(sc, world, ACCOUNT, REGION)
    assert seeded.replaced
    with pytest.raises((AssertionError, LookupError)):
        _judge_replaced(world, sc, seeded, outputs="")


def test_seeded_declares_replacement_consistently():
    resource = Resource.of_arn(f"arn:aws:sqs:{REGION}:{ACCOUNT}:q", "AwsSqsQueue")
    in_place = seeds.Seeded(resource, state=lambda: None)
    assert not in_place.replaced and in_place.successor() is resource
    gone = seeds.Seeded(resource, state=lambda: None, replaced_by=lambda: None, exists=lambda: False)
    assert gone.replaced and gone.successor() is None
    with pytest.raises(ValueError, match="exists"):
        seeds.Seeded(resource, state=lambda: None, replaced_by=lambda: None)
    with pytest.raises(ValueError, match="replaced_by"):
        seeds.Seeded(resource, state=lambda: None, pending=lambda: "soon")
    with pytest.raises(ValueError, match="default shape"):
        seeds.seeder("EC2.4", refused="never")


def test_every_entry_maps_to_a_consolidated_control_with_an_evaluator():
    from asr.controls import load_all

    evaluators = load_all()
    assert len(ENTRIES) == 359
    missing = sorted({security_control(k, c) for k, c in ENTRIES} - set(evaluators))
    assert missing == []


def test_every_entry_has_a_seeder():
    """All 359 entries are proven above: an entry whose control loses its seeder fails here, not silently."""
    unseeded = sorted({f"{k} {c}" for k, c in ENTRIES} - {f"{k} {c}" for k, c, _ in SEEDED})
    assert unseeded == []
    assert len(SEEDED) == len(ENTRIES) == 359
