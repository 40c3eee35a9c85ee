"""Remediation runbooks nested stack (``automated-security-response-remediation-runbooks.template``).

One ``ASR-<Name>`` SSM Automation document per file in ``remediation_runbooks/``.
"""

from __future__ import annotations

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
            doc.add_dependency(created[index - DOCUMENT_BATCH])
        created.append(doc)
    return created


class RunbookStack(SolutionStack):
    def __init__(self, scope: Construct, construct_id: str = solution.RUNBOOK_STACK, *, dist: Distribution) -> None:
        super().__init__(
            scope, construct_id, dist=dist, description=solution.stack_description(solution.RUNBOOK_STACK, dist.version)
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
                for name in documents.remediation_names()
            ],
        )
        cdk.CfnOutput(self, "RunbookCount", value=str(len(self.documents)), description="ASR-* documents created.")
