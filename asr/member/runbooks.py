"""Remediation runbooks nested stack (``automated-security-response-remediation-runbooks.template``).

One ``ASR-<Name>`` SSM Automation document per file in ``remediation_runbooks/``.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable, Iterable, Sequence

import aws_cdk as cdk
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from asr import documents, solution, upgrade
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


def plan_pinned_parts(
    sizes: Sequence[tuple[str, int]],
    pinned: Sequence[Iterable[str]],
    *,
    budget: int = PART_BYTES,
    most: int = PART_DOCUMENTS,
) -> list[list[str]]:
    """Split ``(name, bytes)`` into template parts where the names of ``pinned[i]`` stay in part ``i``.

    ``pinned`` lists, per part of a template the reference v2.3.2 split the same way, the names it
    held there: an in-place update must find each of them in the same template file, or the copy
    created in another part collides with the one the old part still holds (docs/upgrade.md). The
    other names fill, in order, any part with room left under ``budget`` bytes and ``most`` items,
    then new parts after the pinned ones. Sizes are only checked for what we place: a pinned part is
    as big as its names make it (the template limits test measures the result).
    """
    where = {name: index for index, names in enumerate(pinned) for name in names}
    parts: list[list[str]] = [[] for _ in pinned]
    used = [0 for _ in pinned]
    free: list[tuple[str, int]] = []
    for name, size in sizes:
        if name in where:
            parts[where[name]].append(name)
            used[where[name]] += size
        else:
            free.append((name, size))
    for index, part in enumerate(parts):
        if not part and any(parts[index + 1 :]):
            raise ValueError(
                f"template part {index} would be empty while later parts are not: none of {sorted(pinned[index])} "
                "is built any more"
            )
    while parts and not parts[-1]:
        parts.pop()
        used.pop()
    for name, size in free:
        if size > budget:
            raise ValueError(f"{name}: {size} bytes does not fit in one template part ({budget} bytes)")
        for index, part in enumerate(parts):
            if used[index] + size <= budget and len(part) < most:
                part.append(name)
                used[index] += size
                break
        else:
            parts.append([name])
            used.append(size)
    return parts or [[]]


def reference_parts(
    template_of_part: Callable[[int], str], name_of: Callable[[str], str], names: Iterable[str]
) -> list[set[str]]:
    """Per part of a split template of the reference (``template_of_part(0)``, ``(1)`` ... as long as
    the contract has them), which of ``names`` it held (``name_of(name)`` is the physical name)."""
    names = list(names)
    pinned: list[set[str]] = []
    for part in itertools.count():
        held = upgrade.reference_resource_names(template_of_part(part))
        if not held:
            return pinned
        pinned.append({n for n in names if name_of(n) in held})
    raise AssertionError("unreachable")


def uses_namespace(names: Iterable[str]) -> bool:
    """Whether any of these remediation runbooks names the Namespace (a role ``SO0111-<Name>-<ns>``):
    a runbooks part takes the ``Namespace`` parameter only then (an unused parameter is a template
    warning, and the member stack passes only what the part declares)."""
    marker = "nsmarker"
    return any(marker in json.dumps(documents.render_remediation_runbook(n, marker)) for n in names)


@functools.cache
def _runbook_parts() -> tuple[tuple[str, ...], ...]:
    sizes = [
        (name, len(json.dumps(documents.render_remediation_runbook(name, "abcdefghi"), indent=1)))
        for name in documents.remediation_names()
    ]
    pinned = reference_parts(solution.runbook_template, solution.remediation_document, (n for n, _ in sizes))
    return tuple(tuple(part) for part in plan_pinned_parts(sizes, pinned))


def runbook_parts() -> list[list[str]]:
    """Remediation runbooks grouped into the runbook templates that hold them: those of the
    reference's runbooks template stay in ours, new ones go where there is room."""
    return [list(part) for part in _runbook_parts()]


class RunbookStack(SolutionStack):
    """One part of the remediation runbooks (``-remediation-runbooks[N].template``)."""

    def __init__(self, scope: Construct, *, dist: Distribution, names: Sequence[str], part: int = 0) -> None:
        super().__init__(
            scope,
            solution.runbook_stack_id(part),
            dist=dist,
            description=solution.stack_description(solution.RUNBOOK_STACK, dist.version),
        )
        # "-": never rendered, since these runbooks name no Namespace when the part declares none
        namespace = self.namespace_parameter().value_as_string if uses_namespace(names) else "-"
        self.documents = create_documents(
            self,
            [
                (
                    name,
                    solution.remediation_document(name),
                    documents.render_remediation_runbook(name, namespace, deploy_time=True),
                )
                for name in names
            ],
        )
