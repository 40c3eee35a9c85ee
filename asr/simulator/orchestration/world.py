"""Emulated ASR accounts on moto, built from our synthesized templates.

* ``emulated_aws(patcher)``: moto where credentials decide the account (MOTO_ACCOUNT_ID
  removed), the caller acting in the admin account, fake credentials only (nothing can reach
  AWS), the Step Functions interpreter on, and the emulation's moto extensions installed.
* ``Orchestration``: the admin account as the admin template synthesizes it -- the state
  machine, the scheduling queue and table, the findings bucket, the Lambda functions (run
  in-process by ``LambdaDispatcher``), the SNS topic and its parameters -- with SSM
  Automation routed to the local runner (``AutomationRouter``); ``deploy_member()`` deploys
  the member-roles and member templates (and the member playbook and runbook templates they
  nest) into a member account: roles with their policies, SSM documents, SSM parameters, KMS key.

The admin account is moto's default account (123456789012), because moto's Step Functions
interpreter makes its own AWS calls (Lambda, SQS) with fixed credentials that moto maps to that
account. A member account is any other; the orchestrator reaches it only through
``SO0111-ASR-Orchestrator-Member``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from asr import solution
from asr.iam.template import Location, Resolver
from asr.simulator import DocumentRegistry
from asr.simulator.orchestration import templates as synthesized
from asr.simulator.orchestration.patches import (
    AutomationRouter,
    LambdaDispatcher,
    Patcher,
    install_all,
    record_retry_waits,
)

ADMIN = "123456789012"
MEMBER = "111111111111"
REGION = "us-east-1"
TICKET_FUNCTION = "ASR-Test-TicketGenerator"
TICKET_HANDLER = "asr.simulator.orchestration.world.ticket_handler"
SC = ("security-control", "2.0.0", "SC")
AFSBP = ("aws-foundational-security-best-practices", "1.0.0", "AFSBP")
#: Stack parameters the member stack needs a value for (it has no default).
MEMBER_LOG_GROUP = "CloudTrail/DefaultLogGroup"
#: Environment of the orchestrator's Lambdas in the emulation: nothing waits for real (the
#: worker's own tests cover the spacing and polling delays).
NO_WAITS = {"REMEDIATION_WAIT_SECONDS": "0", "POLL_INITIAL_SECONDS": "0", "START_LEASE_SECONDS": "60"}


@contextlib.contextmanager
def emulated_aws(patcher: Patcher, account: str = ADMIN, region: str = REGION) -> Iterator[None]:
    """moto where credentials decide the account, the caller acting in ``account``.

    Fake credentials replace whatever the environment holds (no profile, no config file), so
    nothing run inside can reach AWS. MOTO_ACCOUNT_ID would pin every request to one account,
    collapsing cross-account runs; it is removed.
    """
    from moto import mock_aws
    from moto.core.config import default_user_config

    from asr.simulator import emulation
    from asr.simulator.aws import new_session

    emulation.install()  # what AWS does and moto does not (asr/simulator/emulation)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "MOTO_ACCOUNT_ID"):
        patcher.delenv(key, raising=False)
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }.items():
        patcher.setenv(key, value)
    patcher.setattr(boto3, "DEFAULT_SESSION", None)
    patcher.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
    with mock_aws():
        sts = boto3.Session().client("sts", region_name=region)
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/caller", RoleSessionName="caller")["Credentials"]
        patcher.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
        patcher.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
        patcher.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
        patcher.setattr(boto3, "DEFAULT_SESSION", new_session())
        yield


def member_templates(playbooks: tuple[str, ...]) -> list[str]:
    """The templates ``deploy_member`` deploys: member-roles, member, and what the member stack nests
    (the remediation runbook parts, the member playbook parts of ``playbooks``)."""
    nested = [
        n
        for n in synthesized.names()
        if n.startswith(solution.runbook_template(0).removesuffix(".template"))
        or any(n.startswith(solution.playbook_member_template(k).removesuffix(".template")) for k in playbooks)
    ]
    return [synthesized.MEMBER_ROLES, synthesized.MEMBER, *nested]


def admin_template() -> dict[str, Any]:
    """The admin stack as the build synthesizes it."""
    return synthesized.templates([synthesized.ADMIN])[synthesized.ADMIN]


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
    """The emulation's ticket generator: answers a ticket URL for the remediated control."""
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


@dataclass
class Deployment:
    """What ``deploy_member`` created from the templates, and what it left to the emulation."""

    account: str
    region: str
    roles: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)
    stacks: list[str] = field(default_factory=list)
    #: (template, logical id, type) of resources with no effect on a remediation run (alarms, rules ...)
    not_emulated: list[tuple[str, str, str]] = field(default_factory=list)


class Orchestration:
    """The admin account built from the synthesized admin template, and member accounts on demand.

    ``patcher``: where the moto patches go (``Patches`` or pytest's ``monkeypatch``); the caller
    must already be inside ``emulated_aws``. ``registry``: the documents the runner knows (default:
    the repo's remediation runbooks rendered for ``namespace`` and the AWS-owned emulations).
    """

    def __init__(
        self,
        patcher: Patcher,
        *,
        ticketing: bool = False,
        event_source: bool = True,
        namespace: str = "test",
        registry: DocumentRegistry | None = None,
        extra_handlers: Mapping[str, Callable[..., Any]] | None = None,
        ticket_handler_path: str = TICKET_HANDLER,
    ) -> None:
        """``event_source=False``: no SQS -> worker mapping (the caller runs the consumers, e.g. the burst)."""
        from lambdas.orchestrator import notifications

        self.patcher = patcher
        self.event_source = event_source
        self.namespace = namespace
        self.ticket_handler_path = ticket_handler_path
        # The notifier caches the sendCloudwatchMetrics switch for 5 minutes, as a warm Lambda does;
        # every emulation starts cold, or one run's answer leaks into the next.
        patcher.setattr(notifications, "_metrics_enabled", None)
        self.dispatcher = LambdaDispatcher(extra_handlers=dict(extra_handlers or {}))
        self.registry = registry if registry is not None else DocumentRegistry.from_repo(namespace=namespace)
        self.router = AutomationRouter(registry=self.registry)
        install_all(patcher, self.dispatcher, self.router)
        #: the waits of the state machine's Retry policies: recorded, never slept (moto sleeps them)
        self.retry_waits: list[float] = record_retry_waits(patcher)
        self.template = admin_template()
        self.parameters = {"TicketGenFunctionName": TICKET_FUNCTION if ticketing else ""}
        self.deployments: list[Deployment] = []
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
        physical = synthesized.custom_resource_results(self.template)  # no custom resource runs here
        resolver = Resolver(self.template, Location(ADMIN, REGION), self.parameters, physical)
        queue_id = next(
            k for k, v in resources.items() if v["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in v["Properties"]
        )
        tables = [k for k, v in resources.items() if v["Type"] == "AWS::DynamoDB::Table"]
        buckets = [k for k, v in resources.items() if v["Type"] == "AWS::S3::Bucket"]
        if len(buckets) > 1:
            raise RuntimeError(f"the admin template has {len(buckets)} buckets, the emulation knows one: {buckets}")
        self.findings_bucket = resolver.name_of(buckets[0]) if buckets else None  # the findings store
        if self.findings_bucket:
            self.client("s3").create_bucket(Bucket=self.findings_bucket)
        self.queue_url = sqs.create_queue(QueueName=resolver.name_of(queue_id))["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        if (self.queue_url, queue_arn) != (resolver.ref(queue_id), resolver.arn_of(queue_id)):
            raise RuntimeError(f"the scheduling queue is {queue_arn}, the template names {resolver.arn_of(queue_id)}")
        for table_id in tables:  # the scheduling table, and the remediation history with its indexes
            props = resources[table_id]["Properties"]
            indexes = props.get("GlobalSecondaryIndexes")
            ddb.create_table(
                TableName=resolver.name_of(table_id),
                KeySchema=props["KeySchema"],
                AttributeDefinitions=props["AttributeDefinitions"],
                BillingMode="PAY_PER_REQUEST",
                **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
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
            if arn != resolver.arn_of(logical_id):
                raise RuntimeError(f"function {arn} is not the template's {resolver.arn_of(logical_id)}")
            self.functions[props["FunctionName"]] = arn
            env.update(variables)
        # The handlers run in this process: their environment is the process's.
        env.update(NO_WAITS)
        for key, value in env.items():
            self.patcher.setenv(key, value)
        if self.event_source:
            lam.create_event_source_mapping(
                EventSourceArn=queue_arn, FunctionName=self.functions[solution.WORKER_FUNCTION], BatchSize=1
            )
        self.queue_name = resolver.name_of(queue_id)
        lam.create_function(
            FunctionName=TICKET_FUNCTION,
            Runtime="python3.12",
            Role=role_arn,
            Handler=self.ticket_handler_path,
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
        # what the admin playbook stacks read (an AWS::SSM::Parameter::Value parameter of theirs)
        ssm.put_parameter(Name=solution.SSM_ORCHESTRATOR_ARN, Value=self.machine_arn, Type="String")
        from asr.iam.enforcer import active as active_enforcer

        enforcer = active_enforcer()
        if enforcer is not None:
            # moto's Step Functions interpreter signs its task calls with the key "ak": they are the
            # state machine role's.
            enforcer.map_credentials("ak", machine_role)

    # --- standards and member account -------------------------------------------------

    def install_playbook(self, standard: tuple[str, str, str] = SC, *, enabled: bool = True) -> None:
        """The two parameters of the standard's admin playbook stack the orchestrator reads."""
        long_name, version, short = standard
        ssm = self.client("ssm")
        ssm.put_parameter(Name=solution.ssm_standard_shortname(long_name, version), Value=short, Type="String")
        ssm.put_parameter(
            Name=solution.ssm_standard_status(long_name, version),
            Value=solution.STANDARD_ENABLED if enabled else "disabled",
            Type="String",
        )

    def deploy_playbook(self, key: str, *, progress: Callable[[str], None] | None = None) -> Deployment:
        """The admin playbook stack of playbook ``key`` (its SSM parameters: short name, status, remaps),
        from its synthesized template, in the admin account."""
        name = solution.playbook_admin_template(key)
        template = synthesized.templates([name], progress=progress)[name]
        deployment = Deployment(ADMIN, REGION)
        _Deployer(self, boto3.Session(region_name=REGION), deployment, {}).deploy(name, template, {})
        self.deployments.append(deployment)
        return deployment

    def member(self, account: str = MEMBER, region: str = REGION) -> boto3.Session:
        """A session acting in ``account`` (the emulation's own: no role of ours, not IAM-checked)."""
        creds = self.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/test-setup", RoleSessionName="setup"
        )["Credentials"]
        return boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=region,
        )

    def install_member(self, account: str = MEMBER, roles: tuple[str, ...] = ()) -> boto3.Session:
        """Just the orchestrator member role (and ``roles``), without policies: the IAM enforcer reads
        their policies from the templates."""
        session = self.member(account)
        iam = session.client("iam")
        trust = json.dumps({"Version": "2012-10-17", "Statement": []})
        for name in (solution.ORCHESTRATOR_MEMBER_ROLE, *roles):
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
        return session

    def deploy_member(
        self,
        account: str = MEMBER,
        region: str = REGION,
        *,
        playbooks: tuple[str, ...] = ("SC",),
        key_mode: str = "PerStack",
        redshift_audit_bucket: bool = True,
        progress: Callable[[str], None] | None = None,
    ) -> Deployment:
        """Deploy the member-roles and member templates (with the nested runbook and playbook member
        templates of ``playbooks``) into ``account``/``region``, as CloudFormation would; the SSM
        documents also go into the runner's registry. ``key_mode``: the member stack's RemediationKeyMode
        (PerStack: a key of its own behind CMK_REMEDIATION_ARN); ``redshift_audit_bucket``: its
        CreateS3BucketForRedshiftAuditLogging (the bucket Redshift.4 logs to). Returns what was created."""
        from asr.playbooks.data import STANDARD_KEYS

        unknown = [p for p in playbooks if p not in STANDARD_KEYS]
        if unknown:
            raise ValueError(f"playbooks {unknown} are not among {', '.join(STANDARD_KEYS)}")
        session = self.member(account, region)
        deployment = Deployment(account, region)
        base = {"SecHubAdminAccount": ADMIN, "Namespace": self.namespace}
        found = synthesized.templates(member_templates(playbooks), progress=progress)  # one synthesis for all
        deployer = _Deployer(self, session, deployment, {}, progress=progress)
        deployer.deploy(synthesized.MEMBER_ROLES, found[synthesized.MEMBER_ROLES], base)
        member_parameters = {
            **base,
            "LogGroupName": MEMBER_LOG_GROUP,
            solution.KEY_MODE_PARAMETER: key_mode,
            "CreateS3BucketForRedshiftAuditLogging": "yes" if redshift_audit_bucket else "no",
            **{solution.load_member_parameter(k): "yes" if k in playbooks else "no" for k in STANDARD_KEYS},
        }
        deployer.deploy(synthesized.MEMBER, found[synthesized.MEMBER], member_parameters)
        self.deployments.append(deployment)
        return deployment

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
        if not found["Findings"]:
            raise LookupError(f"no finding with Id {finding_id!r} in Security Hub of the admin account")
        return found["Findings"][0]

    def run(self, event: dict[str, Any], timeout: float = 60) -> Result:
        """Start the state machine on ``event`` and wait for its end (moto runs it in a thread)."""
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
                raise TimeoutError(f"execution still RUNNING after {timeout} s")
            time.sleep(0.02)  # waiting for moto's interpreter thread, not a wait of the product
        history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        output = json.loads(described["output"]) if described.get("output") else None
        return Result(arn, described["status"], history, output)

    def notifications(self) -> list[dict[str, Any]]:
        """The SNS messages published to the solution topic since the last call."""
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


# --- a small CloudFormation, for the member templates ----------------------------------------

_NESTED_TEMPLATE = re.compile(r"((?:playbooks/)?[\w-]+\.template)\"?\s*\]*\s*\]*\s*\}*\s*$")
#: Resource types that change nothing a remediation run reads (waits, alarms, rules, dashboards).
_INERT = {
    "AWS::CloudFormation::WaitConditionHandle",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::Events::Rule",
}
#: The order CloudFormation's dependencies impose among the types deployed here.
_ORDER = [
    "AWS::KMS::Key",
    "AWS::KMS::Alias",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::IAM::Role",
    "AWS::IAM::InstanceProfile",
    "AWS::SSM::Document",
    "AWS::SSM::Parameter",
    "AWS::CloudFormation::Stack",
]


class _Deployer:
    """Creates a template's resources of the types in ``_ORDER`` through boto3, in one account."""

    def __init__(
        self,
        orchestration: Orchestration,
        session: boto3.Session,
        deployment: Deployment,
        physical: dict[str, dict[str, str]],
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.orchestration = orchestration
        self.session = session
        self.deployment = deployment
        self.progress = progress
        self._clients: dict[str, Any] = {}

    def deploy(self, name: str, template: Mapping[str, Any], parameters: Mapping[str, str]) -> None:
        self.deployment.stacks.append(name)
        physical: dict[str, dict[str, str]] = synthesized.custom_resource_results(dict(template))
        location = Location(self.deployment.account, self.deployment.region)
        resolver = Resolver(template, location, {**self._ssm_typed(template, parameters), **parameters}, physical)
        resources = template.get("Resources", {})
        for kind in _ORDER:
            for logical_id, res in resources.items():
                if res["Type"] != kind or not _exists(resolver, res):
                    continue
                getattr(self, "_" + kind.split("::", 1)[1].replace("::", "_").lower())(
                    name, logical_id, res.get("Properties") or {}, resolver, physical
                )
        for logical_id, res in resources.items():
            if res["Type"] not in _ORDER and _exists(resolver, res) and res["Type"] not in _INERT:
                self.deployment.not_emulated.append((name, logical_id, res["Type"]))

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.deployment.region)
        return self._clients[service]

    def _ssm_typed(self, template: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, str]:
        """Values of ``AWS::SSM::Parameter::Value<...>`` parameters left at their default: CloudFormation
        reads the SSM parameter the default names, in the stack's account and Region."""
        values = {}
        for name, spec in (template.get("Parameters") or {}).items():
            if name in given or not str(spec.get("Type", "")).startswith("AWS::SSM::Parameter::Value"):
                continue
            got = self.client("ssm").get_parameter(Name=spec["Default"])["Parameter"]["Value"]
            values[name] = got
        return values

    # one method per resource type ---------------------------------------------------------

    def _kms_key(self, _t: str, logical_id: str, props: Mapping[str, Any], r: Resolver, physical: dict) -> None:
        kms = self.client("kms")
        args: dict[str, Any] = {"Description": str(r.value(props.get("Description", "")))}
        if "KeyPolicy" in props:
            args["Policy"] = json.dumps(r.value(props["KeyPolicy"]))
        meta = kms.create_key(**args)["KeyMetadata"]
        if r.value(props.get("EnableKeyRotation")) is True:
            kms.enable_key_rotation(KeyId=meta["KeyId"])
        physical[logical_id] = {"Ref": meta["KeyId"], "Arn": meta["Arn"]}

    def _kms_alias(self, _t: str, logical_id: str, props: Mapping[str, Any], r: Resolver, physical: dict) -> None:
        alias = str(r.value(props["AliasName"]))
        self.client("kms").create_alias(AliasName=alias, TargetKeyId=str(r.value(props["TargetKeyId"])))
        physical[logical_id] = {"Ref": alias}

    def _s3_bucket(self, _t: str, logical_id: str, props: Mapping[str, Any], r: Resolver, physical: dict) -> None:
        name = str(r.value(props.get("BucketName"))) if props.get("BucketName") else f"asr-{logical_id.lower()[:40]}"
        s3 = self.client("s3")
        if self.deployment.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.deployment.region})
        physical[logical_id] = {"Ref": name, "Arn": f"arn:aws:s3:::{name}"}

    def _s3_bucketpolicy(self, _t: str, _id: str, props: Mapping[str, Any], r: Resolver, _p: dict) -> None:
        self.client("s3").put_bucket_policy(
            Bucket=str(r.value(props["Bucket"])), Policy=json.dumps(r.value(props["PolicyDocument"]))
        )

    def _iam_role(self, _t: str, logical_id: str, props: Mapping[str, Any], r: Resolver, physical: dict) -> None:
        iam = self.client("iam")
        name = r.name_of(logical_id)
        args: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": json.dumps(r.value(props["AssumeRolePolicyDocument"])),
        }
        if props.get("Path"):
            args["Path"] = str(r.value(props["Path"]))
        arn = iam.create_role(**args)["Role"]["Arn"]
        for policy in props.get("Policies") or []:
            iam.put_role_policy(
                RoleName=name,
                PolicyName=str(r.value(policy["PolicyName"])),
                PolicyDocument=json.dumps(r.value(policy["PolicyDocument"])),
            )
        for policy_arn in r.value(props.get("ManagedPolicyArns") or []):
            iam.attach_role_policy(RoleName=name, PolicyArn=str(policy_arn))
        physical[logical_id] = {"Ref": name, "Arn": arn}
        self.deployment.roles.append(arn)

    def _iam_instanceprofile(
        self, _t: str, logical_id: str, props: Mapping[str, Any], r: Resolver, physical: dict
    ) -> None:
        iam = self.client("iam")
        name = str(r.value(props.get("InstanceProfileName"))) if props.get("InstanceProfileName") else logical_id
        iam.create_instance_profile(InstanceProfileName=name)
        for role in r.value(props.get("Roles") or []):
            iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=str(role))
        physical[logical_id] = {"Ref": name}

    def _ssm_document(self, _t: str, logical_id: str, props: Mapping[str, Any], r: Resolver, physical: dict) -> None:
        name = str(r.value(props["Name"]))
        content = r.value(props["Content"])
        self.client("ssm").create_document(
            Name=name,
            Content=json.dumps(content),
            DocumentType=str(r.value(props.get("DocumentType", "Automation"))),
            DocumentFormat="JSON",
        )
        self.orchestration.registry.add(name, content)
        physical[logical_id] = {"Ref": name}
        self.deployment.documents.append(name)

    def _ssm_parameter(self, _t: str, logical_id: str, props: Mapping[str, Any], r: Resolver, physical: dict) -> None:
        name, value = str(r.value(props["Name"])), str(r.value(props["Value"]))
        self.client("ssm").put_parameter(Name=name, Value=value, Type=str(r.value(props.get("Type", "String"))))
        physical[logical_id] = {"Ref": name}
        self.deployment.parameters[name] = value

    def _cloudformation_stack(self, _t: str, logical_id: str, props: Mapping[str, Any], r: Resolver, _p: dict) -> None:
        match = _NESTED_TEMPLATE.search(json.dumps(props["TemplateURL"]))
        if match is None:
            raise RuntimeError(f"nested stack {logical_id}: cannot tell its template from {props['TemplateURL']}")
        name = match.group(1)
        if name not in synthesized.names():
            self.deployment.not_emulated.append((name, logical_id, "AWS::CloudFormation::Stack"))
            return
        parameters = {k: str(r.value(v)) for k, v in (props.get("Parameters") or {}).items()}
        template = synthesized.templates([name], progress=self.progress)[name]
        self.deploy(name, template, parameters)


def _exists(resolver: Resolver, res: Mapping[str, Any]) -> bool:
    condition = res.get("Condition")
    return condition is None or resolver.condition(condition)
