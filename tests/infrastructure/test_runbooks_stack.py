"""Remediation-runbooks templates: every ASR-* document, as rendered, created in throttle-safe batches."""

from __future__ import annotations

import json

from asr import documents, solution
from asr.member.runbooks import DOCUMENT_BATCH, plan_parts
from tests.infrastructure.conftest import resources_of


def _runbook_templates(templates):
    return {p: t for p, t in templates.items() if "remediation-runbooks" in p}


def test_every_runbook_is_a_document_exactly_once(templates):
    names = []
    for template in _runbook_templates(templates).values():
        for doc in resources_of(template, "AWS::SSM::Document").values():
            props = doc["Properties"]
            assert props["DocumentType"] == "Automation" and props["UpdateMethod"] == "NewVersion"
            names.append(props["Name"])
    assert sorted(names) == sorted(documents.remediation_runbook_names())


def test_document_content_is_the_rendered_yaml(templates):
    for template in _runbook_templates(templates).values():
        for doc in resources_of(template, "AWS::SSM::Document").values():
            content = doc["Properties"]["Content"]
            # by name: the logical id is the reference's (ASR<Name>, docs/upgrade.md)
            rid = doc["Properties"]["Name"].removeprefix(solution.DOCUMENT_PREFIX)
            source = documents.runbook_source(rid)
            assert content["schemaVersion"] == "0.3"
            assert content["parameters"].keys() == source["parameters"].keys()
            assert "%%" not in json.dumps(content), rid
            assert len(json.dumps(documents.render_remediation_runbook(rid, "abcdefghi"))) < 64 * 1024, (
                f"{rid}: SSM documents are limited to 64 KB"
            )


def test_no_more_than_a_batch_of_documents_is_created_at_once(templates):
    for path, template in _runbook_templates(templates).items():
        docs = list(resources_of(template, "AWS::SSM::Document"))
        for index, rid in enumerate(docs):
            depends = template["Resources"][rid].get("DependsOn", [])
            if index < DOCUMENT_BATCH:
                assert not depends, (path, rid)
            else:
                assert depends == [docs[index - DOCUMENT_BATCH]], (path, rid)


def test_parts_are_planned_within_budget():
    assert plan_parts([("a", 4), ("b", 4), ("c", 4)], budget=8) == [["a", "b"], ["c"]]
    assert plan_parts([("a", 1)] * 5, budget=100, most=2) == [["a", "a"], ["a", "a"], ["a"]]
    try:
        plan_parts([("huge", 9)], budget=8)
    except ValueError as err:
        assert "huge: 9 bytes" in str(err)
    else:
        raise AssertionError("an oversized document must be refused")


def test_member_stack_nests_every_runbook_part(templates):
    member = templates[solution.TEMPLATE_FILES[solution.MEMBER_STACK]]
    nested = resources_of(member, "AWS::CloudFormation::Stack")
    parts = sorted(p for p in templates if "remediation-runbooks" in p)
    # part 0 keeps the reference's nested stack id (in-place updates, docs/upgrade.md)
    assert sorted(k for k in nested if k.startswith("RunbookStack")) == sorted(
        ["RunbookStackNoRoles", *(solution.runbook_stack_id(i) for i in range(1, len(parts)))]
    )
    urls = {k: json.dumps(v["Properties"]["TemplateURL"]) for k, v in nested.items() if k.startswith("RunbookStack")}
    assert urls["RunbookStackNoRoles"].endswith('/automated-security-response-remediation-runbooks.template"]]}')
