"""Every control entry, proven as Security Hub would judge it: FAILED before, PASSED after, the second
run changes nothing, nothing else changed.

For each (playbook, control) entry: seed the control's noncompliant shape (asr.simulator.seeds), the
control's evaluator (asr.controls, written from the AWS documentation) says FAILED; run the entry's
control runbook from a finding, as the member role, with the real remediation runbooks, under the
IAM enforcer; the evaluator says PASSED; run again: success, the resource's state unchanged, still
PASSED; the bystanders (what the remediation must not touch) are as they were.
Edge shapes of the consolidated controls run the same way. Entries whose control has no seeder yet
are listed by ``test_entries_without_a_seed`` (the note of issue 13 gives the count).
"""

from __future__ import annotations

import boto3
import pytest

from asr.controls import Resource, Status, evaluate
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
    return sorted((control, shape) for control, shape in seeds.load_all() if shape != "default")


SEEDED = _seeded_entries()
EDGES = _edge_shapes()


@pytest.fixture
def world(aws):
    """The member account as the member stack leaves it: a real remediation key behind CMK_REMEDIATION_ARN."""
    arn = client("kms").create_key(Description="ASR remediation key")["KeyMetadata"]["Arn"]
    client("ssm").put_parameter(Name="/Solutions/SO0111/CMK_REMEDIATION_ARN", Value=arn, Type="String", Overwrite=True)
    return boto3.Session()


def _verdict(session: boto3.Session, control: str, seeded: seeds.Seeded) -> tuple[Status, str]:
    verdict = evaluate(control, session, seeded.resource, seeded.parameters or None)
    return verdict.status, verdict.reason


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
    _, first = run_control(real_registry(), std, runbook_control, finding)
    assert first.status is Run.SUCCESS, first.failure_message
    status, reason = _verdict(session, sc, seeded)
    assert status is Status.PASSED, (
        f"{key} {control_id} ({sc}/{shape}) reported success, control still {status}: {reason}"
    )
    state = seeded.state()

    again = finding_for(std, control_id, resource.id, resource_type=resource.type, account=ACCOUNT, region=REGION)
    import_finding(again)
    _, second = run_control(real_registry(), std, runbook_control, again)
    assert second.status is Run.SUCCESS, second.failure_message
    assert seeded.state() == state, "the second run changed the resource"
    assert _verdict(session, sc, seeded)[0] is Status.PASSED
    assert seeded.bystanders() == bystanders, "the remediation changed what it must not touch"


@pytest.mark.parametrize(("key", "control_id", "sc"), SEEDED, ids=[f"{k}-{c}" for k, c, _ in SEEDED])
def test_entry_turns_its_control_passed(world, key, control_id, sc):
    _prove(world, key, control_id, sc)


@pytest.mark.parametrize(("sc", "shape"), EDGES, ids=[f"{c}-{s}" for c, s in EDGES])
def test_edge_shape_turns_its_control_passed(world, sc, shape):
    _prove(world, "SC", sc, sc, shape)


def test_every_entry_maps_to_a_consolidated_control_with_an_evaluator():
    from asr.controls import load_all

    evaluators = load_all()
    assert len(ENTRIES) == 359
    missing = sorted({security_control(k, c) for k, c in ENTRIES} - set(evaluators))
    assert missing == []
