"""End-to-end harness: the synthesized admin template's state machine on moto.

The admin account is moto's default account (123456789012), because moto's Step
Functions interpreter makes its own AWS calls (Lambda, SQS) with fixed credentials
that moto maps to that account. The member account is a different one (111111111111):
the orchestrator reaches it only through ``SO0111-ASR-Orchestrator-Member``.
"""

from __future__ import annotations

import functools
import io
import json
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

from asr import solution
from asr.iam.enforcer import active as active_enforcer
from asr.iam.template import Location, Resolver
from asr.simulator import DocumentRegistry
from tests.orchestrator.moto_ext import AutomationRouter, LambdaDispatcher, install_all

ADMIN = "123456789012"
MEMBER = "111111111111"
REGION = "us-east-1"
NAMESPACE = "test"
TICKET_FUNCTION = "ASR-Test-TicketGenerator"
SC = ("security-control", "2.0.0", "SC")
AFSBP = ("aws-foundational-security-best-practices", "1.0.0", "AFSBP")


@functools.cache
def admin_template() -> dict[str, Any]:
    """The admin stack as the build synthesizes it (alone, without cdk-nag: the
    infrastructure tests hold the nag and lint gates)."""
    import aws_cdk as cdk

    from asr.admin.stack import AdminStack
    from asr.app import APP_CONTEXT
    from asr.cdk_common import Distribution
    from asr.playbooks.data import standards

    out = Path(tempfile.mkdtemp(prefix="asr-admin-"))
    app = cdk.App(outdir=str(out), context=APP_CONTEXT, analytics_reporting=False)
    stack = AdminStack(app, dist=Distribution(), standards=standards())
    app.synth()
    return json.loads((out / f"{stack.stack_name}.template.json").read_text())


def machine_definition(parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """The state machine's definition as the admin template synthesizes it, resolved."""
    template = admin_template()
    resolver = Resolver(template, Location(ADMIN, REGION), parameters or {"TicketGenFunctionName": ""})
    machine_id = next(k for k, v in template["Resources"].items() if v["Type"] == "AWS::StepFunctions::StateMachine")
    return json.loads(resolver.value(template["Resources"][machine_id]["Properties"]["DefinitionString"]))


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def ticket_handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    info = event["RemediationInfo"]
    return {"TicketURL": f"https://tickets.example.com/ASR-{info['SecurityControlId']}", "Ok": True}


@dataclass
class Result:
    arn: str
    status: str
    history: list[dict[str, Any]]
    output: Any

    @property
    def transitions(self) -> int:
        """State transitions as Step Functions bills them: one per state entered."""
        return sum(1 for e in self.history if e["type"].endswith("StateEntered"))

    def states(self) -> list[str]:
        return [e["stateEnteredEventDetails"]["name"] for e in self.history if e["type"].endswith("StateEntered")]

    def payloads(self) -> list[tuple[str, str, int]]:
        """(event type, field, UTF-8 bytes) of every input, output, parameters and cause in the history:
        what Step Functions measures against its 262,144-byte payload limit."""
        sizes = []
        for event in self.history:
            for key, details in event.items():
                if not key.endswith("EventDetails") or not isinstance(details, dict):
                    continue
                for field_name in ("input", "output", "parameters", "cause"):
                    value = details.get(field_name)
                    if isinstance(value, str):
                        sizes.append((event["type"], field_name, len(value.encode("utf-8"))))
        return sizes


class Harness:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, ticketing: bool = False, event_source: bool = True) -> None:
        """``event_source=False``: no SQS -> worker mapping (the caller runs the consumers, e.g. the burst)."""
        self.monkeypatch = monkeypatch
        self.event_source = event_source
        self.dispatcher = LambdaDispatcher(extra_handlers={"tests.orchestrator.harness.ticket_handler": ticket_handler})
        self.registry = DocumentRegistry.from_repo(namespace=NAMESPACE)
        self.router = AutomationRouter(registry=self.registry)
        install_all(monkeypatch, self.dispatcher, self.router)
        #: the waits of the state machine's Retry policies: recorded, never slept (moto sleeps them)
        self.retry_waits: list[float] = []
        monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=self.retry_waits.append))
        self.template = admin_template()
        self.parameters = {"TicketGenFunctionName": TICKET_FUNCTION if ticketing else ""}
        self._admin()

    # --- admin account ---------------------------------------------------------------

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    def _admin(self) -> None:
        resources = self.template["Resources"]
        iam = self.client("iam")
        role_arn = iam.create_role(
            RoleName=solution.ORCHESTRATOR_ADMIN_ROLE,
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        sns, sqs, ssm, ddb = self.client("sns"), self.client("sqs"), self.client("ssm"), self.client("dynamodb")
        self.topic_arn = sns.create_topic(Name=solution.SNS_TOPIC)["TopicArn"]
        inbox = sqs.create_queue(QueueName="sns-inbox")["QueueUrl"]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=inbox_arn)
        self.inbox = inbox
        ssm.put_parameter(Name=solution.SSM_SNS_TOPIC_ARN, Value=self.topic_arn, Type="String")
        ssm.put_parameter(Name=solution.SSM_SEND_CLOUDWATCH_METRICS, Value="yes", Type="String")
        self.client("securityhub").enable_security_hub()

        # Every resource the template names or generates a name for is created under that name, so the
        # policies of its roles (resolved by the IAM enforcer from the same template) name it too.
        resolver = Resolver(self.template, Location(ADMIN, REGION), self.parameters)
        queue_id = next(
            k for k, v in resources.items() if v["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in v["Properties"]
        )
        table_id = next(k for k, v in resources.items() if v["Type"] == "AWS::DynamoDB::Table")
        buckets = [k for k, v in resources.items() if v["Type"] == "AWS::S3::Bucket"]
        assert len(buckets) <= 1, buckets
        self.findings_bucket = resolver.name_of(buckets[0]) if buckets else None  # the findings store
        if self.findings_bucket:
            self.client("s3").create_bucket(Bucket=self.findings_bucket)
        self.queue_url = sqs.create_queue(QueueName=resolver.name_of(queue_id))["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        assert (self.queue_url, queue_arn) == (resolver.ref(queue_id), resolver.arn_of(queue_id))
        ddb.create_table(
            TableName=resolver.name_of(table_id),
            KeySchema=resources[table_id]["Properties"]["KeySchema"],
            AttributeDefinitions=resources[table_id]["Properties"]["AttributeDefinitions"],
            BillingMode="PAY_PER_REQUEST",
        )
        lam = self.client("lambda")
        self.functions: dict[str, str] = {}
        env: dict[str, str] = {}
        for logical_id, res in resources.items():
            if res["Type"] != "AWS::Lambda::Function" or not res["Properties"]["Handler"].startswith(
                "lambdas.orchestrator"
            ):
                continue
            props = res["Properties"]
            variables = resolver.value(props.get("Environment", {}).get("Variables", {}))
            arn = lam.create_function(
                FunctionName=props["FunctionName"],
                Runtime="python3.12",
                Role=resolver.value(props["Role"]),
                Handler=props["Handler"],
                Code={"ZipFile": _zip()},
                Environment={"Variables": variables},
            )["FunctionArn"]
            assert arn == resolver.arn_of(logical_id)
            self.functions[props["FunctionName"]] = arn
            env.update(variables)
        # Tests never sleep: no spacing, no poll delay (the worker's own tests cover them).
        env.update({"REMEDIATION_WAIT_SECONDS": "0", "POLL_INITIAL_SECONDS": "0", "START_LEASE_SECONDS": "60"})
        for key, value in env.items():
            self.monkeypatch.setenv(key, value)
        if self.event_source:
            lam.create_event_source_mapping(
                EventSourceArn=queue_arn, FunctionName=self.functions[solution.WORKER_FUNCTION], BatchSize=1
            )
        self.queue_name = resolver.name_of(queue_id)
        lam.create_function(
            FunctionName=TICKET_FUNCTION,
            Runtime="python3.12",
            Role=role_arn,
            Handler="tests.orchestrator.harness.ticket_handler",
            Code={"ZipFile": _zip()},
        )
        machine_id = next(k for k, v in resources.items() if v["Type"] == "AWS::StepFunctions::StateMachine")
        props = resources[machine_id]["Properties"]
        definition = resolver.value(props["DefinitionString"])
        self.definition = json.loads(definition)
        machine_role = resolver.value(props["RoleArn"])
        self.machine_arn = self.client("stepfunctions").create_state_machine(
            name=props["StateMachineName"], definition=definition, roleArn=machine_role
        )["stateMachineArn"]
        enforcer = active_enforcer()
        if enforcer is not None:
            # moto's Step Functions interpreter signs its task calls with the key "ak": they are the
            # state machine role's.
            enforcer.map_credentials("ak", machine_role)

    # --- standards and member account -------------------------------------------------

    def install_playbook(self, standard: tuple[str, str, str] = SC, *, enabled: bool = True) -> None:
        long_name, version, short = standard
        ssm = self.client("ssm")
        ssm.put_parameter(Name=solution.ssm_standard_shortname(long_name, version), Value=short, Type="String")
        ssm.put_parameter(
            Name=solution.ssm_standard_status(long_name, version),
            Value=solution.STANDARD_ENABLED if enabled else "disabled",
            Type="String",
        )

    def member(self, account: str = MEMBER) -> boto3.Session:
        creds = self.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/test-setup", RoleSessionName="setup"
        )["Credentials"]
        return boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=REGION,
        )

    def install_member(self, account: str = MEMBER, roles: tuple[str, ...] = ()) -> boto3.Session:
        session = self.member(account)
        iam = session.client("iam")
        trust = json.dumps({"Version": "2012-10-17", "Statement": []})
        for name in (solution.ORCHESTRATOR_MEMBER_ROLE, *roles):
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
        return session

    def add_runbook(self, session: boto3.Session, name: str, content: dict[str, Any]) -> None:
        self.registry.add(name, content)
        session.client("ssm").create_document(
            Name=name, Content=json.dumps(content), DocumentType="Automation", DocumentFormat="JSON"
        )

    # --- runs ------------------------------------------------------------------------------

    def import_finding(self, finding: dict[str, Any]) -> None:
        self.client("securityhub").batch_import_findings(Findings=[finding])

    def finding(self, finding_id: str) -> dict[str, Any]:
        found = self.client("securityhub").get_findings(Filters={"Id": [{"Value": finding_id, "Comparison": "EQUALS"}]})
        return found["Findings"][0]

    def run(self, event: dict[str, Any], timeout: float = 60) -> Result:
        sfn = self.client("stepfunctions")
        arn = sfn.start_execution(
            stateMachineArn=self.machine_arn, name=f"run-{uuid.uuid4()}", input=json.dumps(event)
        )["executionArn"]
        deadline = time.monotonic() + timeout
        while True:
            described = sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"execution still RUNNING after {timeout} s")
            time.sleep(0.02)
        history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        output = json.loads(described["output"]) if described.get("output") else None
        return Result(arn, described["status"], history, output)

    def notifications(self) -> list[dict[str, Any]]:
        sqs = self.client("sqs")
        messages = []
        while True:
            got = sqs.receive_message(QueueUrl=self.inbox, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return messages
            for m in got:
                envelope = json.loads(m["Body"])
                messages.append(json.loads(envelope["Message"]))
                sqs.delete_message(QueueUrl=self.inbox, ReceiptHandle=m["ReceiptHandle"])
