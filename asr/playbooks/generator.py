"""Generate control runbooks ``ASR-<short>_<ver>_<control>`` from playbook entries.

Plain Python, no CDK import: the member playbook stacks, the simulator and the
tests all build control runbooks here, from one entry of ``playbooks/<KEY>.yaml``
and the shared facts of ``playbooks/remediations.yaml``.

A control runbook has four kinds of steps:

1. ``ParseInput`` -- ``playbooks/scripts/parse_input.py``: validates the finding
   (id shape, account, product ARN, expected control ids, standard), extracts the
   resource id with the entry's regex, reads Security Hub control parameters
   through the finding's Config rule and picks the metric filter of the control;
2. ``Pre<N>`` -- remediations that must run first (S3 access logging);
3. ``Remediation`` -- ``aws:executeAutomation`` of the remediation, with
   ``TargetLocations`` in the resource's account and Region for regional entries;
4. ``UpdateFinding`` -- ``securityhub:BatchUpdateFindings``: note + RESOLVED.
"""

from __future__ import annotations

import ast
import functools
import re
from typing import Any

from asr import documents, solution
from asr.playbooks.data import SCRIPT_DIR, Control, Remediation, Standard, metric_filters, remediations

PARSE_SCRIPT = "parse_input.py"
ROLE_NAME_PATTERN = r"^[\w+=,.@-]+$"
_TOKEN = re.compile(r"\{([a-z_]+)(?::([^{}]+))?\}")

#: ParseInput outputs: name -> (selector, type)
_FIXED_OUTPUTS = {
    "FindingId": ("$.Payload.finding_id", "String"),
    "ProductArn": ("$.Payload.product_arn", "String"),
    "ControlId": ("$.Payload.control_id", "String"),
    "AffectedObject": ("$.Payload.affected_object", "StringMap"),
    "ResourceId": ("$.Payload.resource_id", "String"),
    "RemediationAccount": ("$.Payload.remediation_account", "String"),
    "RemediationRegion": ("$.Payload.remediation_region", "String"),
}
_FILTER_FIELDS = ("FilterName", "FilterPattern", "MetricName", "AlarmName", "AlarmDesc")


def _ref(name: str) -> str:
    """``{{name}}``: an SSM Automation variable reference."""
    return "{{" + name + "}}"


class GeneratorError(ValueError):
    """A playbook entry cannot be turned into a control runbook."""


@functools.cache
def parse_script() -> str:
    """The shared ParseInput script, without docstrings and indented by one space per level
    (both would be repeated in every document of every template: the member templates must hold
    the control runbooks the reference's held, within CloudFormation's 1 MB, docs/upgrade.md)."""
    tree = ast.parse((SCRIPT_DIR / PARSE_SCRIPT).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.FunctionDef)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    # ast.unparse indents by four spaces and writes every string on one line (repr), so leading
    # spaces are only indentation: one space per level is the same program.
    lines = []
    for line in ast.unparse(tree).splitlines():
        text = line.lstrip(" ")
        lines.append(" " * ((len(line) - len(text)) // 4) + text)
    script = "\n".join(lines) + "\n"
    if ast.dump(ast.parse(script)) != ast.dump(tree):
        raise GeneratorError(f"{PARSE_SCRIPT}: re-indenting changed the program")
    return script


@functools.cache
def _parameter_types(document: str) -> dict[str, str]:
    """Declared parameter types of an ASR remediation runbook ({} for AWS-owned documents)."""
    if not document.startswith(solution.DOCUMENT_PREFIX):
        return {}
    source = documents.runbook_source(document)
    return {name: spec.get("type", "String") for name, spec in (source.get("parameters") or {}).items()}


def _value_type(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, list):
        return "StringList"
    return "String"


class _Builder:
    """Everything one control runbook needs while it is being assembled."""

    def __init__(self, std: Standard, control: Control, namespace: str) -> None:
        if control.remapped:
            raise GeneratorError(f"{std.key} {control.control_id} is remapped to {control.remap}: it has no runbook")
        self.std, self.control, self.namespace = std, control, namespace
        self.remediation: Remediation = remediations()[control.remediation]
        self.name = std.control_runbook(control.control_id)
        self.regional = control.scope == "regional"
        self.inputs: dict[str, dict[str, Any]] = {}  # extra runbook parameters ({{ssm:...}})
        self.outputs: dict[str, tuple[str, str]] = dict(_FIXED_OUTPUTS)
        self.control_params: dict[str, dict[str, Any]] = {}
        self.uses_filter = False

    # --- value templates -------------------------------------------------------

    def account_ref(self) -> str:
        return "{{ParseInput.RemediationAccount}}" if self.regional else "{{global:ACCOUNT_ID}}"

    def render(self, param: str, value: Any, types: dict[str, str]) -> Any:
        """A data value (literal, token template, {{ssm}}, control parameter) as a runbook value."""
        if isinstance(value, dict):
            if set(value) != {"control_param", "default"}:
                raise GeneratorError(f"{self.name}: parameter {param}: unknown source {value!r}")
            kind = types.get(param) or _value_type(value["default"])
            self.control_params[param] = {"name": value["control_param"], "default": value["default"], "type": kind}
            self.outputs[param] = (f"$.Payload.params.{param}", kind)
            return _ref(f"ParseInput.{param}")
        if not isinstance(value, str) or "{" not in value:
            return value
        ssm = re.fullmatch(r"\{ssm:(/[^{}]+)\}", value)
        if ssm:
            self.inputs[param] = {
                "type": "String",
                "default": _ref(f"ssm:{ssm.group(1)}"),
                "description": f"(Optional) {param}, from SSM parameter {ssm.group(1)}.",
            }
            return _ref(param)
        return _TOKEN.sub(lambda m: self._token(m.group(1), m.group(2), param), value)

    def _token(self, token: str, arg: str | None, param: str) -> str:
        if token == "resource":
            return "{{ParseInput.ResourceId}}"
        if token == "account":
            return "{{ParseInput.RemediationAccount}}"
        if token == "region":
            return "{{ParseInput.RemediationRegion}}"
        if token == "partition":
            return "{{global:AWS_PARTITION}}"
        if token == "match" and arg and arg.isdigit():
            name = f"Match{arg}"
            self.outputs[name] = (f"$.Payload.matches[{int(arg) - 1}]", "String")
            return _ref(f"ParseInput.{name}")
        if token == "role" and arg:
            role = solution.service_role(arg, self.namespace)
            return "arn:{{global:AWS_PARTITION}}:iam::" + self.account_ref() + ":role/" + role
        if token == "filter" and arg in _FILTER_FIELDS:
            self.uses_filter = True
            self.outputs[arg] = (f"$.Payload.metric_filter.{arg}", "String")
            return _ref(f"ParseInput.{arg}")
        raise GeneratorError(f"{self.name}: parameter {param}: unknown token {{{token}{':' + arg if arg else ''}}}")

    # --- steps -----------------------------------------------------------------------

    def remediation_step(self) -> dict[str, Any]:
        rem = self.remediation
        types = _parameter_types(rem.document)
        runtime: dict[str, Any] = {
            "AutomationAssumeRole": "arn:{{global:AWS_PARTITION}}:iam::"
            + self.account_ref()
            + ":role/{{RemediationRoleName}}"
        }
        if rem.param:
            runtime[rem.param] = ["{{ParseInput.ResourceId}}"] if rem.is_list else "{{ParseInput.ResourceId}}"
        for param, value in {**rem.params, **self.control.params}.items():
            runtime[param] = self.render(param, value, types)
        unknown = sorted(set(runtime) - set(types)) if types else []
        if unknown:
            raise GeneratorError(f"{self.name}: {rem.document} has no parameter(s) {', '.join(unknown)}")
        step: dict[str, Any] = {
            "name": "Remediation",
            "action": "aws:executeAutomation",
            "inputs": {"DocumentName": rem.document, "RuntimeParameters": runtime},
        }
        if self.regional:
            step["inputs"]["TargetLocations"] = [
                {
                    "Accounts": ["{{ParseInput.RemediationAccount}}"],
                    "Regions": ["{{ParseInput.RemediationRegion}}"],
                    "ExecutionRoleName": "{{RemediationRoleName}}",
                }
            ]
        return step

    def pre_steps(self) -> list[dict[str, Any]]:
        steps = []
        for index, pre in enumerate(self.remediation.pre, start=1):
            role = solution.remediation_role(pre.remediation, self.namespace)
            document = solution.remediation_document(pre.remediation)
            types = _parameter_types(document)
            runtime: dict[str, Any] = {
                "AutomationAssumeRole": "arn:{{global:AWS_PARTITION}}:iam::" + self.account_ref() + ":role/" + role
            }
            for param, value in pre.params.items():
                runtime[param] = self.render(param, value, types)
            inputs: dict[str, Any] = {"DocumentName": document, "RuntimeParameters": runtime}
            if self.regional:
                inputs["TargetLocations"] = [
                    {
                        "Accounts": ["{{ParseInput.RemediationAccount}}"],
                        "Regions": ["{{ParseInput.RemediationRegion}}"],
                        "ExecutionRoleName": role,
                    }
                ]
            steps.append({"name": f"Pre{index}{pre.remediation}", "action": "aws:executeAutomation", "inputs": inputs})
        return steps

    def parse_step(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "Finding": "{{Finding}}",
            "parse_id_pattern": self.remediation.regex.pattern,
            "resource_index": self.remediation.group,
            "expected_control_id": self.std.expected_controls(self.control),
            "standard_long_name": self.std.long_name,
            "standard_version": self.std.version,
        }
        if self.control_params:
            payload["control_params"] = self.control_params
        if self.uses_filter:
            kinds = metric_filters()
            payload["metric_filters"] = {
                c.control_id: kinds[c.metric_filter]
                for c in self.std.entries
                if c.control_id in payload["expected_control_id"] and c.metric_filter
            }
        return {
            "name": "ParseInput",
            "action": "aws:executeScript",
            "outputs": [{"Name": n, "Selector": s, "Type": t} for n, (s, t) in self.outputs.items()],
            "inputs": {
                "InputPayload": payload,
                "Script": parse_script(),
                "Handler": "parse_event",
                "Runtime": "python3.11",
            },
        }

    def update_step(self) -> dict[str, Any]:
        note = self.control.note or self.remediation.note
        return {
            "name": "UpdateFinding",
            "action": "aws:executeAwsApi",
            "isEnd": True,
            "inputs": {
                "Service": "securityhub",
                "Api": "BatchUpdateFindings",
                "FindingIdentifiers": [{"Id": "{{ParseInput.FindingId}}", "ProductArn": "{{ParseInput.ProductArn}}"}],
                "Note": {"Text": self.render("Note", note, {}), "UpdatedBy": self.name},
                "Workflow": {"Status": "RESOLVED"},
            },
        }

    def build(self) -> dict[str, Any]:
        # Steps that render values first: they declare the ParseInput outputs they use.
        remediate = self.remediation_step()
        pre = self.pre_steps()
        update = self.update_step()
        parse = self.parse_step()
        expected = ", ".join(self.std.expected_controls(self.control))
        rem = self.remediation
        return {
            "schemaVersion": "0.3",
            "description": (
                f"### Document name - {self.name}\n\n"
                f"## What does this document do?\n"
                f"Remediates {self.std.title} control {self.control.control_id} findings "
                f"(accepts {expected}) by running {rem.document}"
                f"{' in the resource account and Region' if self.regional else ''}, "
                f"then marks the finding RESOLVED.\n\n"
                f"## Input Parameters\n"
                f"* Finding: (Required) the Security Hub finding.\n"
                f"* AutomationAssumeRole: (Required) the role this document runs as.\n"
                f"* RemediationRoleName: (Optional) the role {rem.document} runs as.\n"
            ),
            "assumeRole": "{{AutomationAssumeRole}}",
            "outputs": ["ParseInput.AffectedObject", "Remediation.Output"],
            "parameters": {
                "Finding": {
                    "type": "StringMap",
                    "description": f"The input from the Orchestrator Step function for the {self.control.control_id} "
                    "finding",
                },
                "AutomationAssumeRole": {
                    "type": "String",
                    "description": "(Required) The ARN of the role that allows Automation to perform the actions "
                    "on your behalf.",
                    "allowedPattern": solution.ASSUME_ROLE_PATTERN,
                },
                "RemediationRoleName": {
                    "type": "String",
                    "default": solution.remediation_role(rem.name, self.namespace),
                    "allowedPattern": ROLE_NAME_PATTERN,
                    "description": f"(Optional) The name of the role {rem.document} runs as.",
                },
                **self.inputs,
            },
            "mainSteps": [parse, *pre, remediate, update],
        }


def control_runbook(std: Standard, control: Control | str, namespace: str) -> dict[str, Any]:
    """Content of the control runbook of ``control`` (an own, not remapped, entry).

    ``namespace`` is the member stacks' Namespace: a plain value, or a CloudFormation
    token in the stacks (resolved when the stack deploys).
    """
    if isinstance(control, str):
        control = std.control(control)
    return _Builder(std, control, namespace).build()


def control_runbooks(std: Standard, namespace: str) -> dict[str, dict[str, Any]]:
    """Document name -> content, for every own control of ``std``."""
    return {std.control_runbook(c.control_id): control_runbook(std, c, namespace) for c in std.own()}
