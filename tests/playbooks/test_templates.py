"""Playbook templates: documents, parameters, rules and SSM parameters for all seven standards."""

from __future__ import annotations

import json
import random
import re

import pytest

from asr import solution
from asr.member.runbooks import DOCUMENT_BATCH
from asr.playbooks import data
from tests.infrastructure.conftest import by_stack, resources_of

STANDARDS = [s.key for s in data.standards()]
REFERENCE = {  # v2.3.2: member templates, admin playbook resources
    "SCMemberStack bytes": 959_881,
    "SCMemberStack resources": 96,
    "SCStack resources": 343,
    "admin playbook resources": 1_420,
}


def member_templates(templates, key):
    pattern = re.compile(rf"^playbooks/{key}MemberStack\d*\.template$")
    return {p: t for p, t in sorted(templates.items()) if pattern.match(p)}


@pytest.mark.parametrize("key", STANDARDS)
def test_member_templates_hold_one_document_per_own_control(templates, key):
    std = data.load_standard(key)
    docs, params = {}, {}
    for template in member_templates(templates, key).values():
        for res in resources_of(template, "AWS::SSM::Document").values():
            name = res["Properties"]["Name"]
            assert name not in docs
            docs[name] = res
        params.update(template["Parameters"])
        assert {"SecHubAdminAccount", "Namespace"} <= set(template["Parameters"])
    assert sorted(docs) == sorted(std.control_runbook(c.control_id) for c in std.own())
    for control in std.own():
        param = solution.control_available_parameter(control.control_id)
        assert params[param]["AllowedValues"] == ["Available", "NOT Available"]
        assert params[param]["Default"] == "Available"
        doc = docs[std.control_runbook(control.control_id)]
        assert doc["Properties"]["DocumentType"] == "Automation"
        assert doc["Properties"]["UpdateMethod"] == "NewVersion"
        assert doc["Condition"] == f"{param}Condition"
    for control in std.remaps():  # remapped controls have no document and no parameter
        assert solution.control_available_parameter(control.control_id) not in params or any(
            c.control_id != control.control_id
            and solution.control_available_parameter(c.control_id)
            == solution.control_available_parameter(control.control_id)
            for c in std.own()
        )


def test_member_stack_nests_every_part(templates):
    member = by_stack(templates, solution.MEMBER_STACK)
    nested = resources_of(member, "AWS::CloudFormation::Stack")
    for key in STANDARDS:
        parts = member_templates(templates, key)
        ids = {solution.playbook_member_stack_id(key, i) for i in range(len(parts))}
        assert ids <= set(nested), key
        assert solution.playbook_member_stack_id(key, len(parts)) not in nested
        for i in range(len(parts)):
            assert nested[solution.playbook_member_stack_id(key, i)]["Condition"] == solution.load_condition(key)


def test_member_templates_leave_room_under_the_limit(templates, template_bytes):
    """A part the reference had keeps the control runbooks it held (an in-place update would collide
    otherwise, docs/upgrade.md): it keeps 5% of CloudFormation's 1,000,000 bytes free. A part of ours
    only is at most half the limit."""
    from asr.upgrade import load_contract

    sizes = {p: template_bytes[p] for p in templates if "MemberStack" in p}
    reference = {p: n for p, n in sizes.items() if load_contract().template(p) is not None}
    ours = {p: n for p, n in sizes.items() if p not in reference}
    assert reference and max(reference.values()) <= 950_000, max(reference.items(), key=lambda kv: kv[1])
    assert not ours or max(ours.values()) <= 500_000, max(ours.items(), key=lambda kv: kv[1])


def _concurrency(template: dict, available: dict[str, bool]) -> int:
    """Most SSM documents CloudFormation could be creating at once, for these choices.

    Resources whose condition is false are dropped; a Ref inside Fn::If counts only
    on the branch taken; each document takes one time unit, gates none.
    """
    resources = template["Resources"]
    conditions = {
        name: available[cond["Fn::Equals"][0]["Ref"]]
        for name, cond in template.get("Conditions", {}).items()
        if "Fn::Equals" in cond
    }
    present = {rid for rid, r in resources.items() if conditions.get(r.get("Condition"), True)}

    def refs(node):
        if isinstance(node, dict):
            if "Fn::If" in node:
                name, yes, no = node["Fn::If"]
                yield from refs(yes if conditions[name] else no)
                return
            if "Ref" in node and node["Ref"] in resources:
                yield node["Ref"]
            for v in node.values():
                yield from refs(v)
        elif isinstance(node, list):
            for v in node:
                yield from refs(v)

    deps = {}
    for rid in present:
        res = resources[rid]
        dep = res.get("DependsOn", [])
        dep = [dep] if isinstance(dep, str) else dep
        found = set(dep) | set(refs(res.get("Metadata", {}))) | set(refs(res.get("Properties", {})))
        assert found <= present, f"{rid} depends on absent {found - present}"
        deps[rid] = found
    finish: dict[str, int] = {}

    def done(rid):
        if rid not in finish:
            start = max((done(d) for d in deps[rid]), default=0)
            cost = 1 if resources[rid]["Type"] == "AWS::SSM::Document" else 0
            finish[rid] = start + cost
        return finish[rid]

    for rid in present:
        done(rid)
    docs = [r for r in present if resources[r]["Type"] == "AWS::SSM::Document"]
    return max((sum(1 for d in docs if finish[d] == t) for t in set(finish[d] for d in docs)), default=0)


@pytest.mark.parametrize("key", ["SC", "AFSBP", "CIS120"])
def test_no_more_than_a_batch_of_documents_is_created_at_once_whatever_is_available(templates, key):
    rng = random.Random(7)
    for template in member_templates(templates, key).values():
        params = [p for p in template["Parameters"] if p.startswith("Enable")]
        choices = [
            dict.fromkeys(params, True),
            {p: i % 2 == 0 for i, p in enumerate(params)},
            {p: i % DOCUMENT_BATCH == 0 for i, p in enumerate(params)},
            dict.fromkeys(params, False),
            *({p: rng.random() < 0.5 for p in params} for _ in range(20)),
        ]
        for available in choices:
            assert _concurrency(template, available) <= DOCUMENT_BATCH
        assert _concurrency(template, dict.fromkeys(params, True)) == min(DOCUMENT_BATCH, len(params))


@pytest.mark.parametrize("key", STANDARDS)
def test_admin_template_has_a_rule_parameter_and_ssm_parameters(templates, key):
    std = data.load_standard(key)
    admin = templates[solution.playbook_admin_template(key)]
    rules = {r["Properties"]["Name"]: r for r in resources_of(admin, "AWS::Events::Rule").values()}
    assert sorted(rules) == sorted(
        solution.auto_trigger_rule(std.short_name, std.version, c.control_id) for c in std.entries
    )
    roles = resources_of(admin, "AWS::IAM::Role")
    assert len(roles) == 1, "all rules share one EventBridge role"
    (role_id,) = roles
    for control in std.entries:
        param = admin["Parameters"][solution.auto_trigger_parameter(std.short_name, std.version, control.control_id)]
        assert (param["Default"], param["AllowedValues"]) == ("DISABLED", ["ENABLED", "DISABLED"])
        rule = rules[solution.auto_trigger_rule(std.short_name, std.version, control.control_id)]["Properties"]
        assert rule["State"] == {
            "Ref": solution.auto_trigger_parameter(std.short_name, std.version, control.control_id)
        }
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Ref": solution.PLAYBOOK_ORCHESTRATOR_PARAMETER}
        assert target["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
        assert target["InputTransformer"]["InputTemplate"] == (
            '{"detail-type": <detail-type>, "detail": {"findings": <findings>, "actionName": "None"}}'
        )
    orchestrator = admin["Parameters"][solution.PLAYBOOK_ORCHESTRATOR_PARAMETER]
    assert orchestrator["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert orchestrator["Default"] == solution.SSM_ORCHESTRATOR_ARN
    ssm = {
        r["Properties"]["Name"]: r["Properties"]["Value"] for r in resources_of(admin, "AWS::SSM::Parameter").values()
    }
    expected = {
        solution.ssm_standard_status(std.long_name, std.version): "enabled",
        solution.ssm_standard_shortname(std.long_name, std.version): std.short_name,
        **{solution.ssm_control_remap(std.short_name, std.version, c.control_id): c.remap for c in std.remaps()},
    }
    assert ssm == expected


def test_counts_and_sizes_next_to_the_reference(templates, template_bytes, capsys):
    """Not a limit: prints the table the report quotes."""
    lines = []
    admin_total = 0
    for key in STANDARDS:
        std = data.load_standard(key)
        admin = templates[solution.playbook_admin_template(key)]
        admin_total += len(admin["Resources"])
        parts = member_templates(templates, key)
        lines.append(
            f"{key}: {len(std.own())} runbooks, {len(std.remaps())} remaps, "
            f"{len(resources_of(admin, 'AWS::Events::Rule'))} rules; admin {len(admin['Resources'])} resources "
            f"{template_bytes[solution.playbook_admin_template(key)]:,} B; member "
            + ", ".join(
                f"{p.split('/')[-1]} {template_bytes[p]:,} B/{len(t['Resources'])} res" for p, t in parts.items()
            )
        )
    lines.append(
        f"all admin playbook templates: {admin_total} resources (reference {REFERENCE['admin playbook resources']})"
    )
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert admin_total < REFERENCE["admin playbook resources"]
    assert len(templates["playbooks/SCStack.template"]["Resources"]) < REFERENCE["SCStack resources"]
    assert json.dumps(templates["playbooks/SCStack.template"])
