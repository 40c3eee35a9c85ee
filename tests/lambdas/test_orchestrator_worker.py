"""The remediation worker: slots per account+Region, concurrent consumers, redelivery,
interrupted starts, permanent and transient failures."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from asr import solution
from asr.simulator import DocumentRegistry
from asr.simulator.findings import make_finding
from lambdas.orchestrator import worker as worker_mod
from lambdas.orchestrator.worker import Worker, completed_result, job_identity
from tests.conftest import ACCOUNT, REGION
from tests.orchestrator.moto_ext import AutomationRouter

RUNBOOK = "ASR-SC_2.0.0_Lambda.1"
DOC = {
    "schemaVersion": "0.3",
    "parameters": {"Finding": {"type": "StringMap"}, "AutomationAssumeRole": {"type": "String"}},
    "mainSteps": [{"name": "Remediation", "action": "aws:sleep", "inputs": {"Duration": "PT1S"}}],
}


class FakeSfn:
    def __init__(self) -> None:
        self.answers: list[tuple[str, str, Any]] = []
        self.error: str | None = None

    def _maybe_fail(self, op: str) -> None:
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "closed"}}, op)

    def send_task_success(self, taskToken: str, output: str) -> None:
        self._maybe_fail("SendTaskSuccess")
        self.answers.append(("success", taskToken, json.loads(output)))

    def send_task_failure(self, taskToken: str, error: str, cause: str) -> None:
        self._maybe_fail("SendTaskFailure")
        self.answers.append(("failure", taskToken, {"error": error, "cause": cause}))


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.t = now

    def __call__(self) -> float:
        return self.t


class Env:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        ddb, sqs, sns = (boto3.client(s, region_name=REGION) for s in ("dynamodb", "sqs", "sns"))
        ddb.create_table(
            TableName="sched",
            KeySchema=[{"AttributeName": "AccountID-Region", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "AccountID-Region", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.queue = sqs.create_queue(QueueName="sched")["QueueUrl"]
        self.sqs = sqs
        topic = sns.create_topic(Name=solution.SNS_TOPIC)["TopicArn"]
        inbox = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        self.inbox = inbox
        for key, value in {
            "SCHEDULING_TABLE": "sched",
            "SCHEDULING_QUEUE_URL": self.queue,
            "SNS_TOPIC_ARN": topic,
            "REMEDIATION_WAIT_SECONDS": "3",
            "POLL_INITIAL_SECONDS": "0",
            "POLL_MAX_SECONDS": "120",
            "START_LEASE_SECONDS": "120",
        }.items():
            monkeypatch.setenv(key, value)
        registry = DocumentRegistry()
        registry.add(RUNBOOK, DOC)
        self.router = AutomationRouter(registry=registry)
        self.router.install(monkeypatch)
        self.clock = Clock()
        self.sfn = FakeSfn()

    def worker(self) -> Worker:
        w = Worker(now=self.clock)
        w.sfn = self.sfn
        return w

    def queued(self) -> list[dict[str, Any]]:
        got = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
            "Messages", []
        )
        for m in got:
            self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=m["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in got]

    def statuses(self) -> list[str]:
        got = self.sqs.receive_message(QueueUrl=self.inbox, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(json.loads(m["Body"])["Message"])["Remediation_Status"] for m in got]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    lock = threading.RLock()
    for name in ("transact_write_items", "update_item", "put_item", "get_item"):
        original = getattr(DynamoDBBackend, name)

        def serialized(self, *args, __original=original, **kwargs):
            with lock:  # DynamoDB applies one conditional write atomically; moto's Python code does not
                return __original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, serialized)
    with mock_aws():
        yield Env(monkeypatch)


def body(n: int = 0, account: str = ACCOUNT, region: str = REGION, action: str = solution.CUSTOM_ACTION_NAME) -> dict:
    finding = make_finding(
        "Lambda.1",
        f"arn:aws:lambda:{region}:{account}:function:f{n}",
        resource_type="AwsLambdaFunction",
        standard_name="security-control",
        standard_version="2.0.0",
        account_id=account,
        region=region,
        finding_uuid=f"00000000-0000-0000-0000-{n:012d}",
    )
    target = {
        "Account": account,
        "Region": region,
        "Partition": "aws",
        "Runbook": RUNBOOK,
        "RoleArn": f"arn:aws:iam::{account}:role/{solution.ORCHESTRATOR_MEMBER_ROLE}",
        "StandardShortName": "SC",
        "StandardVersion": "2.0.0",
        "ControlId": "Lambda.1",
        "RunbookControlId": "Lambda.1",
        "Parameters": {
            "Finding": json.dumps(finding),
            "AutomationAssumeRole": f"arn:aws:iam::{account}:role/{solution.ORCHESTRATOR_MEMBER_ROLE}",
        },
    }
    return {
        "TaskToken": f"token-{n}",
        "ExecutionArn": "arn:aws:states:us-east-1:1:execution:m:e",
        "Job": {
            "Finding": finding,
            "MapIndex": n,
            "EventType": solution.EVENT_CUSTOM_ACTION,
            "CustomActionName": action,
            "Outcome": "READY",
            "Target": target,
        },
    }


def test_happy_path_two_deliveries(env: Env):
    w = env.worker()
    assert w.process(body()) == "RUNNING"
    [requeued] = env.queued()
    assert job_identity(requeued) == job_identity(body())
    assert env.statuses() == ["QUEUED"]
    assert w.process(requeued) == "DONE"
    [(kind, token, output)] = env.sfn.answers
    assert (kind, token, output["Outcome"], output["Notified"]) == ("success", "token-0", "SUCCESS", True)
    assert env.statuses() == ["SUCCESS"]
    assert len(env.router.started) == 1


def test_requeue_delays_follow_the_slot_and_the_poll_backoff(env: Env, monkeypatch: pytest.MonkeyPatch):
    delays: list[int] = []
    real = Worker._requeue

    def spy(self, message, delay):
        delays.append(max(0, min(900, int(-(-delay // 1)))))
        real(self, message, delay)

    monkeypatch.setattr(Worker, "_requeue", spy)
    monkeypatch.setenv("POLL_INITIAL_SECONDS", "15")
    env.router.pending_default = 3
    w = env.worker()
    assert w.process(body(0)) == "RUNNING"
    assert w.process(body(1)) == "SCHEDULED"  # same account+Region, 3 s later
    for _ in range(3):
        w.process(body(0))
    assert delays == [15, 3, 15, 30, 60]
    assert [w.poll_delay(n) for n in range(1, 7)] == [15, 30, 60, 120, 120, 120]


def test_other_accounts_and_regions_do_not_wait(env: Env):
    w = env.worker()
    assert w.process(body(0)) == "RUNNING"
    assert w.process(body(1, region="us-west-2")) == "RUNNING"
    assert w.process(body(2, account="222222222222")) == "RUNNING"


def test_slot_frees_after_the_spacing(env: Env):
    w = env.worker()
    w.process(body(0))
    env.clock.t += 3.5
    assert w.process(body(1)) == "RUNNING"


def test_concurrent_consumers_get_distinct_slots(env: Env):
    workers = [env.worker() for _ in range(8)]
    phases: list[str] = []
    errors: list[BaseException] = []

    def consume(i: int) -> None:
        try:
            phases.append(workers[i].process(body(i)))
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=consume, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    table = boto3.client("dynamodb", region_name=REGION)
    planned = sorted(
        float(
            table.get_item(TableName="sched", Key={"AccountID-Region": {"S": f"job#{job_identity(body(i))}"}})["Item"][
                "PlannedTimestamp"
            ]["N"]
        )
        for i in range(8)
    )
    assert [b - a for a, b in itertools.pairwise(planned)] == [3.0] * 7
    assert phases.count("RUNNING") == 1 and phases.count("SCHEDULED") == 7


def test_duplicate_deliveries_start_once_and_answer_once(env: Env):
    w1, w2 = env.worker(), env.worker()
    assert w1.process(body()) == "RUNNING"
    assert w2.process(body()) == "DONE"  # the duplicate of the first delivery finds the run finished
    [requeued] = env.queued()
    assert w1.process(requeued) == "DONE"
    assert w2.process(requeued) == "DONE"
    assert len(env.router.started) == 1
    assert len(env.sfn.answers) == 1
    assert sorted(env.statuses()) == ["QUEUED", "SUCCESS"]


def test_concurrent_duplicates_start_once(env: Env):
    workers = [env.worker() for _ in range(6)]
    threads = [threading.Thread(target=w.process, args=(body(),)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for message in env.queued():
        env.worker().process(message)
    assert len(env.router.started) == 1
    assert len(env.sfn.answers) == 1


def test_a_start_interrupted_before_it_was_recorded_is_adopted(env: Env, monkeypatch: pytest.MonkeyPatch):
    original = Worker._update
    crashed = []

    def crash_once(self, key, values, condition, cond_values):
        if values.get("Phase") == "RUNNING" and not crashed:
            crashed.append(key)
            raise RuntimeError("Lambda timed out")
        return original(self, key, values, condition, cond_values)

    monkeypatch.setattr(Worker, "_update", crash_once)
    w = env.worker()
    with pytest.raises(RuntimeError):
        w.process(body())
    assert len(env.router.started) == 1
    assert w.process(body()) == "STARTING"  # lease still held: wait, do not start again
    env.clock.t += 121
    assert w.process(body()) == "RUNNING"
    assert len(env.router.started) == 1  # found again by its tag, not started twice


def test_permanent_start_failure_fails_the_task(env: Env):
    message = body()
    message["Job"]["Target"]["Runbook"] = "ASR-Missing"
    assert env.worker().process(message) == "DONE"
    [(kind, _, answer)] = env.sfn.answers
    assert kind == "failure" and answer["error"] == "ASR.RemediationNotStarted"
    assert "ASR-Missing" in answer["cause"]
    assert env.statuses() == []  # the state machine's Catch notifies LAMBDA_ERROR


def test_a_closed_task_token_is_not_an_error(env: Env):
    env.sfn.error = "TaskTimedOut"
    w = env.worker()
    w.process(body())
    assert w.process(body()) == "DONE"


def test_transient_errors_raise_for_redelivery(env: Env, monkeypatch: pytest.MonkeyPatch):
    def throttled(self, key):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetItem")

    monkeypatch.setattr(Worker, "_get", throttled)
    monkeypatch.setattr(worker_mod.Worker, "__init__", _init_with(env))
    with pytest.raises(ClientError):
        worker_mod.lambda_handler({"Records": [{"body": json.dumps(body())}]}, None)


def test_other_errors_fail_the_task(env: Env, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(Worker, "_job", lambda self, job_id: {"Phase": "WEIRD"})
    monkeypatch.setattr(worker_mod.Worker, "__init__", _init_with(env))
    out = worker_mod.lambda_handler({"Records": [{"body": json.dumps(body())}]}, None)
    assert out == {"phases": ["ERROR"]}
    [(kind, _, answer)] = env.sfn.answers
    assert kind == "failure" and answer["error"] == "ASR.WorkerError" and "WEIRD" in answer["cause"]


def _init_with(env: Env):
    real_init = Worker.__init__

    def init(self, *, now=env.clock):
        real_init(self, now=now)
        self.sfn = env.sfn

    return init


def test_ticketed_success_defers_the_notification(env: Env):
    w = env.worker()
    message = body(action=solution.TICKETING_ACTION_NAME)
    w.process(message)
    w.process(message)
    [(_, _, output)] = env.sfn.answers
    assert output["TicketRequested"] is True and output["Notified"] is False
    assert output["TicketRequest"]["RemediationInfo"]["SecurityControlId"] == "Lambda.1"
    assert env.statuses() == ["QUEUED"]


def test_remediation_reporting_failure_is_failed_even_if_ssm_succeeded():
    job = body()["Job"]
    execution = {
        "AutomationExecutionId": "e",
        "AutomationExecutionStatus": "Success",
        "Outputs": {"Remediation.Output": [json.dumps({"status": "Failed", "message": "boom"})]},
    }
    result = completed_result(job, execution, 1)
    assert result["Outcome"] == "FAILED" and "boom" in result["Message"]


@pytest.mark.parametrize(
    "status, outcome",
    [("TimedOut", "TIMEDOUT"), ("Cancelled", "CANCELLED"), ("Failed", "FAILED"), ("Success", "SUCCESS")],
)
def test_terminal_statuses(status, outcome):
    execution = {
        "AutomationExecutionId": "e",
        "AutomationExecutionStatus": status,
        "FailureMessage": "why",
        "Outputs": {"ParseInput.AffectedObject": [json.dumps({"Type": "AwsLambdaFunction", "Id": "f"})]},
    }
    result = completed_result(body()["Job"], execution, 2)
    assert result["Outcome"] == outcome
    assert result["Remediation"]["AffectedObject"] == "AwsLambdaFunction f"
    if outcome != "SUCCESS":
        assert "why" in result["Message"]


def test_a_policy_retry_under_duplicate_deliveries_starts_and_notifies_each_attempt_once(
    env: Env, monkeypatch: pytest.MonkeyPatch
):
    """Retries (docs/policy.md): every message delivered twice, the first copy's message included:
    each attempt starts once, each attempt's end is notified once, the token is answered once,
    with the last attempt."""
    import copy

    from asr.policy import store
    from lambdas.orchestrator import enforce

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="asr-policy")
    s3.put_bucket_versioning(Bucket="asr-policy", VersioningConfiguration={"Status": "Enabled"})
    policy = b"version: 1\nglobal:\n  retries: {attempts: 2, backoff_seconds: 60}\n"
    store.PolicyStore(s3, "asr-policy", "policy.yaml").apply(policy)
    monkeypatch.setenv(solution.POLICY_BUCKET_ENV, "asr-policy")
    monkeypatch.setenv(solution.POLICY_KEY_ENV, "policy.yaml")
    monkeypatch.setattr(enforce, "_cache", None)
    env.router.status_override = "Failed"
    sent: list[tuple[dict, float]] = []
    monkeypatch.setattr(Worker, "_requeue", lambda self, message, delay: sent.append((copy.deepcopy(message), delay)))
    w = env.worker()
    first = body(0)
    messages = [(first, 0.0)]
    waited: list[float] = []
    for _ in range(40):
        if not messages or env.sfn.answers:
            break
        message, delay = messages.pop(0)
        waited.append(delay)
        env.clock.t += max(0.0, delay)
        for _copy in range(2):  # SQS delivers at least once
            w.process(copy.deepcopy(message))
        messages += sent
        sent.clear()
    w.process(copy.deepcopy(first))  # the first attempt's message, late, after the end

    assert env.statuses() == ["QUEUED", "FAILED", "QUEUED", "FAILED"]
    assert len(env.router.started) == 2
    assert [d for d in waited if d >= 1] == [60]  # the backoff; polls and the spacing wait 0 here
    [(kind, _token, answer)] = env.sfn.answers
    assert kind == "success" and answer["Outcome"] == "FAILED"
    assert (answer["Attempt"], answer["Initiator"]) == (2, "RETRY")
    assert "Not retried (RETRY_NOT_ALLOWED)" in answer["Message"]
