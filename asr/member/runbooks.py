"""Remediation runbooks nested stack (``automated-security-response-remediation-runbooks.template``).

One ``ASR-<Name>`` SSM Automation document per file in ``remediation_runbooks/``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from asr import documents, solution
from asr.cdk_common import Distribution, SolutionStack

#: SSM CreateDocument is throttled per account: at most this many documents of one
#: template are created (or updated) at the same time.
DOCUMENT_BATCH = 5


def create_documents(stack: SolutionStack, docs: Sequence[tuple[str, str, dict]]) -> list[ssm.CfnDocument]:
    """Create SSM Automation documents ``(construct id, name, content)`` in batches.

    Each document depends on the one ``DOCUMENT_BATCH`` places before it, so no more
    than ``DOCUMENT_BATCH`` CreateDocument calls run at once -- without a custom
    resource or Lambda per document.
    """
    created: list[ssm.CfnDocument] = []
    for index, (cid, name, content) in enumerate(docs):
        doc = ssm.CfnDocument(
            stack,
            cid,
            name=name,
            document_type="Automation",
            document_format="JSON",
            content=content,
            update_method="NewVersion",
        )
        if index >= DOCUMENT_BATCH:
            doc.add_resource_dependency(created[index - DOCUMENT_BATCH])
        created.append(doc)
    return created


def create_conditional_documents(
    stack: SolutionStack, docs: Sequence[tuple[str, str, dict, cdk.CfnCondition]], *, batch: int = DOCUMENT_BATCH
) -> list[ssm.CfnDocument]:
    """Create conditional SSM documents ``(construct id, name, content, condition)``
    in batches of ``batch``, whichever of them the conditions leave in the stack.

    A resource cannot name an absent conditional resource in ``DependsOn``, so each
    batch is closed by an always-created gate (an ``AWS::CloudFormation::WaitConditionHandle``,
    which calls no API) whose metadata refers to each document of the batch only
    when the document's condition holds. The next batch depends on the gate: no
    more than ``batch`` CreateDocument calls run at once, whatever is enabled --
    with one gate per ``batch`` documents instead of a custom resource per document.
    """
    created: list[ssm.CfnDocument] = []
    gate: cdk.CfnWaitConditionHandle | None = None
    for start in range(0, len(docs), batch):
        members = []
        for cid, name, content, condition in docs[start : start + batch]:
            doc = ssm.CfnDocument(
                stack,
                cid,
                name=name,
                document_type="Automation",
                document_format="JSON",
                content=content,
                update_method="NewVersion",
            )
            doc.cfn_options.condition = condition
            if gate is not None:
                doc.add_resource_dependency(gate)
            members.append((doc, condition))
            created.append(doc)
        if start + batch >= len(docs):
            break
        next_gate = cdk.CfnWaitConditionHandle(stack, f"DocumentBatch{start // batch + 1}")
        next_gate.cfn_options.metadata = {
            "Follows": [cdk.Fn.condition_if(c.logical_id, d.ref, cdk.Aws.NO_VALUE) for d, c in members]
        }
        if gate is not None:
            next_gate.add_resource_dependency(gate)
        gate = next_gate
    return created


#: A template part is closed when its documents would pass this many bytes of
#: content (half of CloudFormation's 1,000,000-byte template limit, leaving room for
#: the JSON indentation and the resource wrappers) or this many documents.
PART_BYTES = 450_000
PART_DOCUMENTS = 150


def plan_parts(
    sizes: Sequence[tuple[str, int]], *, budget: int = PART_BYTES, most: int = PART_DOCUMENTS
) -> list[list[str]]:
    """Split ``(name, bytes)`` in order into parts under ``budget`` bytes and ``most`` items."""
    parts: list[list[str]] = [[]]
    used = 0
    for name, size in sizes:
        if size > budget:
            raise ValueError(f"{name}: {size} bytes does not fit in one template part ({budget} bytes)")
        if parts[-1] and (used + size > budget or len(parts[-1]) >= most):
            parts.append([])
            used = 0
        parts[-1].append(name)
        used += size
    return parts


def runbook_parts() -> list[list[str]]:
    """Remediation runbooks grouped into the runbook templates that hold them."""
    sizes = [
        (name, len(json.dumps(documents.render_remediation_runbook(name, "abcdefghi"), indent=1)))
        for name in documents.remediation_names()
    ]
    return plan_parts(sizes)


class RunbookStack(SolutionStack):
    """One part of the remediation runbooks (``-remediation-runbooks[N].template``)."""

    def __init__(self, scope: Construct, *, dist: Distribution, names: Sequence[str], part: int = 0) -> None:
        super().__init__(
            scope,
            solution.runbook_stack_id(part),
            dist=dist,
            description=solution.stack_description(solution.RUNBOOK_STACK, dist.version),
        )
        namespace = self.namespace_parameter()
        self.documents = create_documents(
            self,
            [
                (
                    name,
                    solution.remediation_document(name),
                    documents.render_remediation_runbook(name, namespace.value_as_string, deploy_time=True),
                )
                for name in names
            ],
        )
