"""Run generated control runbooks through the local runner on moto.

* ``stub_registry()``: every remediation document replaced by a recording stub with
  the real document's parameters (so the control runbook's parameters are
  validated exactly as the real remediation would) and one no-op step;
* ``real_registry()``: the real remediation runbooks and AWS-owned emulations;
* both hold every generated control runbook, rendered for ``NAMESPACE``.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import boto3

from asr import solution
from asr.playbooks import data, generator
from asr.simulator import aws as sim_aws
from asr.simulator.findings import make_finding
from asr.simulator.registry import DocumentRegistry
from asr.simulator.runner import AutomationRunner, FakeClock
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION

NAMESPACE = "sim"
OTHER_REGION = "eu-west-1"
def orchestrator_role(account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:role/{solution.ORCHESTRATOR_MEMBER_ROLE}"
KMS_KEY_ARN = "arn:aws:kms:{region}:{account}:key/12345678-90ab-cdef-1234-567890abcdef"
LOG_GROUP = "CloudTrail/DefaultLogGroup"
REDSHIFT_BUCKET = "so0111-redshift-audit-logs"

#: ASFF resource type to put in findings, per regex (documentation only: runbooks do not check it).
RESOURCE_TYPES = {"account": "AwsAccount", "s3_bucket_arn": "AwsS3Bucket", "iam_user_arn": "AwsIamUser"}


def sample(regex_name: str, account: str = ACCOUNT, region: str = REGION) -> tuple[str, str]:
    """(resource id, expected extracted value) from the registry's aws-partition example,
    moved to ``account`` and ``region``."""
    regex = data.regexes()[regex_name]
    rid, value = next((k, v) for k, v in regex.valid.items() if k.startswith(("arn:aws:", "AWS::")))

    def move(text: str) -> str:
        return text.replace(ACCOUNT, account).replace(f":{REGION}:", f":{region}:")

    return move(rid), move(value)


def _control_runbooks(registry: DocumentRegistry) -> None:
    for std in data.standards():
        for name, content in generator.control_runbooks(std, NAMESPACE).items():
            registry.add(name, content)


def _stub(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "schemaVersion": "0.3",
        "description": "recording stub",
        "assumeRole": "{{ AutomationAssumeRole }}",
        "parameters": copy.deepcopy(document.get("parameters") or {}),
        "mainSteps": [{"name": "Record", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}}],
    }


@functools.cache
def real_registry() -> DocumentRegistry:
    registry = DocumentRegistry.from_repo(namespace=NAMESPACE)
    _control_runbooks(registry)
    return registry


@functools.cache
def stub_registry() -> DocumentRegistry:
    real = DocumentRegistry.from_repo(namespace=NAMESPACE)
    registry = DocumentRegistry()
    for name in real.names():
        registry.add(name, _stub(real.get(name)))
    _control_runbooks(registry)
    return registry


def session_in(account: str, region: str) -> boto3.Session:
    """A session acting in ``account`` (moto maps assumed-role credentials to it)."""
    return sim_aws.assume_role(
        sim_aws.new_session(region_name=region), f"arn:aws:iam::{account}:role/test-setup", region, "setup"
    )


#: Clients of the current moto world; the fixtures clear it when a world starts or ends
#: (credentials of one world mean nothing in the next).
CLIENTS: dict[tuple[str, str, str], Any] = {}


def client(service: str, account: str = ACCOUNT, region: str = REGION) -> Any:
    key = (service, account, region)
    if key not in CLIENTS:
        CLIENTS[key] = session_in(account, region).client(service, region_name=region)
    return CLIENTS[key]


def solution_parameters(account: str, region: str) -> None:
    """The SSM parameters the member stack creates, which control runbooks read."""
    ssm = client("ssm", account, region)
    values = {
        solution.SSM_CMK_REMEDIATION_ARN: KMS_KEY_ARN.format(region=region, account=account),
        solution.SSM_METRICS_LOG_GROUP_NAME: LOG_GROUP,
        solution.SSM_S3_4_KMS_KEY_ALIAS: solution.S3_4_DEFAULT_KMS_ALIAS,
        solution.SSM_REDSHIFT_4_BUCKET: REDSHIFT_BUCKET,
    }
    for name, value in values.items():
        ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)


def finding_for(
    std: data.Standard,
    control_id: str,
    resource_id: str,
    *,
    account: str = ACCOUNT,
    region: str = REGION,
    resource_type: str = "Other",
    standard: data.Standard | None = None,
    config_rule_name: str | None = None,
) -> dict[str, Any]:
    shape = standard or std
    return make_finding(
        control_id,
        resource_id,
        resource_type=resource_type,
        standard_name=shape.long_name,
        standard_version=shape.version,
        account_id=account,
        region=region,
        config_rule_name=config_rule_name,
    )


def import_finding(finding: dict[str, Any], account: str | None = None, region: str = REGION) -> None:
    """Import into the finding's own account (where the orchestrator runs its control runbook)."""
    client("securityhub", account or finding["AwsAccountId"], region).batch_import_findings(Findings=[finding])


def stored_finding(finding_id: str, account: str | None = None, region: str = REGION) -> dict[str, Any]:
    found = []
    for where in [account] if account else [ACCOUNT, OTHER_ACCOUNT]:
        pages = client("securityhub", where, region).get_paginator("get_findings").paginate()
        found += [f for page in pages for f in page["Findings"] if f["Id"] == finding_id]
    unique = {f["Id"]: f for f in found}  # moto may show one account's finding to another
    assert len(unique) == 1, (finding_id, len(unique))
    return unique[finding_id]


def run_control(
    registry: DocumentRegistry,
    std: data.Standard,
    control_id: str,
    finding: dict[str, Any],
    *,
    account: str | None = None,
    region: str = REGION,
    runner: AutomationRunner | None = None,
):
    """Run a control runbook as the orchestrator does: in the finding's account, as the member role there."""
    account = account or finding["AwsAccountId"]
    runner = runner or AutomationRunner(registry, clock=FakeClock())
    execution = runner.run(
        std.control_runbook(control_id),
        {"Finding": finding, "AutomationAssumeRole": orchestrator_role(account)},
        account_id=account,
        region=region,
    )
    return runner, execution


def remediation_runs(runner: AutomationRunner, document: str) -> list:
    """Executions of ``document`` that ran steps (not the multi-account aggregate records)."""
    return [e for e in runner.executions if e.document_name == document and e.step_executions]
