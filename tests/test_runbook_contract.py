"""Shape checks every remediation runbook must pass (the reference's runbook validator, stricter)."""

from __future__ import annotations

import ast
import importlib
import re

import pytest

from asr import documents, solution

NAMES = documents.remediation_names()
SCRIPT_RUNTIMES = {"python3.11", "python3.12", "python3.13"}


def test_the_library_is_not_empty():
    assert "EnableKeyRotation" in NAMES


@pytest.fixture(params=NAMES)
def name(request) -> str:
    return request.param


def _params(doc):
    return doc.get("parameters") or {}


def test_header(name):
    doc = documents.runbook_source(name)
    assert doc["schemaVersion"] == "0.3"
    assert solution.remediation_document(name) in doc["description"], "description names the document"
    assert len(doc["description"]) > 200, "description explains what it changes and what it never touches"
    assert re.fullmatch(r"\{\{ ?AutomationAssumeRole ?\}\}", doc["assumeRole"])


def test_automation_assume_role_contract(name):
    param = _params(documents.runbook_source(name))["AutomationAssumeRole"]
    assert param["type"] == "String"
    assert param["allowedPattern"] == solution.ASSUME_ROLE_PATTERN
    assert "default" not in param


def test_every_parameter_is_constrained_and_its_default_fits(name):
    for pname, param in _params(documents.runbook_source(name)).items():
        assert param.get("type") in {"String", "StringList", "StringMap", "Integer", "Boolean", "MapList"}, pname
        if param["type"] in {"StringMap", "MapList", "Boolean"}:
            continue
        assert "allowedPattern" in param or "allowedValues" in param, f"{pname} has no allowedPattern/allowedValues"
        default = param.get("default")
        if default is None or (isinstance(default, str) and default.startswith("{{")):
            continue
        values = default if isinstance(default, list) else [default]
        for value in values:
            if "allowedPattern" in param:
                assert re.search(param["allowedPattern"], str(value)), f"{pname} default {value!r}"
            if "allowedValues" in param and param["type"] != "StringList":
                assert value in param["allowedValues"], f"{pname} default {value!r}"


def test_steps_and_outputs(name):
    doc = documents.runbook_source(name)
    steps = doc["mainSteps"]
    step_names = [s["name"] for s in steps]
    assert len(step_names) == len(set(step_names)), "step names are unique"
    declared = {f"{s['name']}.{o['Name']}" for s in steps for o in s.get("outputs") or ()}
    assert doc.get("outputs"), "a runbook says what it changed"
    for out in doc["outputs"]:
        assert out in declared, f"document output {out} is not a step output"
    for step in steps:
        for target in [step.get("nextStep"), *re.findall(r"step:(\w+)", str(step.get("onFailure", "")))]:
            if target:
                assert target in step_names, f"{step['name']} jumps to unknown step {target}"


def test_scripts_exist_and_export_their_handler(name):
    for step in documents.runbook_source(name)["mainSteps"]:
        if step["action"] != "aws:executeScript":
            continue
        inputs = step["inputs"]
        assert inputs["Runtime"] in SCRIPT_RUNTIMES
        match = re.fullmatch(r"%%SCRIPT=(\w+)\.py%%", inputs["Script"].strip())
        assert match, f"{step['name']}: scripts live in remediation_runbooks/scripts/, not inline"
        tree = ast.parse(documents.script_text(f"{match.group(1)}.py"))
        functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert inputs["Handler"] in functions
        importlib.import_module(f"remediation_runbooks.scripts.{match.group(1)}")


def test_renders_without_placeholders(name):
    rendered = documents.render_remediation_runbook(name, "abc")
    assert "%%" not in repr(rendered)


def test_has_permissions(name):
    perms = documents.permissions(name)
    assert perms.statements


def test_every_permission_file_belongs_to_a_remediation():
    owned = {d.removeprefix("AWS-") for d in solution.AWS_OWNED_DOCUMENTS}
    for perm in documents.permission_names():
        assert perm in NAMES or perm in owned, f"permissions/{perm}.yaml has no runbook"


def test_bad_namespace_is_refused():
    with pytest.raises(documents.DocumentError, match="namespace 'UPPER'"):
        documents.render_remediation_runbook("EnableKeyRotation", "UPPER")
