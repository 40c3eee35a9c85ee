"""A burst of findings through the synthesized state machine and the scheduler, on moto.

Used by tests/orchestrator/test_burst.py (reduced) and benchmarks/bench_burst.py (full).

* The state machine runs on moto's interpreter (one execution per event of
  ``findings_per_event`` findings, its Map items concurrent), with our handlers in-process.
* No SQS -> Lambda mapping: ``consumers`` threads receive from the scheduling queue, as
  Lambda's pollers do, and invoke the worker through moto's Lambda API (so as the
  worker's role, under the IAM enforcer). A delivery may be duplicated (SQS is at least
  once), fail transiently before the worker runs (throttling: the message comes back after
  its visibility timeout), or be processed and never deleted (the consumer died): the
  same message comes back later.
* Time is a fake clock shared by the worker (``worker.clock``) and moto's SQS (delays,
  visibility): it moves only when every consumer is idle and nothing is visible, straight
  to the next message's time. No one sleeps: makespan in simulated seconds.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import types
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.sqs import models as sqs_models
from moto.sqs.models import sqs_backends

from asr import solution
from asr.simulator.findings import custom_action_event, make_finding
from lambdas.orchestrator import worker
from tests.orchestrator.harness import ADMIN, REGION, Harness
from tests.orchestrator.scenarios import REMEDIATION_ROLE, SC_RUNBOOK, lambda1_runbook

REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "eu-central-1")
VISIBILITY_TIMEOUT = 720  # the scheduling queue's, as synthesized (12 minutes)


class _PerThreadDefaultSession(types.ModuleType):
    """boto3 whose ``DEFAULT_SESSION`` is per thread. The local runner lends a script step its
    role by setting ``boto3.DEFAULT_SESSION`` (asr/simulator/actions/script.py): harmless one
    execution at a time, but with concurrent consumers another thread's clients would pick that
    role up. Each thread sees the session it set, else the one the burst started with."""

    base: Any = None
    local = threading.local()

    @property
    def DEFAULT_SESSION(self) -> Any:
        return getattr(type(self).local, "session", type(self).base)

    @DEFAULT_SESSION.setter
    def DEFAULT_SESSION(self, value: Any) -> None:
        type(self).local.session = value


def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies each request atomically; moto's in-memory tables are not thread-safe
    (a transaction deep-copies a table another thread is writing). One lock per request."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("get_item", "put_item", "update_item", "delete_item", "transact_write_items", "query", "scan"):
        original = getattr(DynamoDBBackend, name)

        def locked(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


def per_thread_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    _PerThreadDefaultSession.base = boto3.DEFAULT_SESSION
    _PerThreadDefaultSession.local = threading.local()
    lock = threading.Lock()

    def default_session() -> Any:
        session = boto3.DEFAULT_SESSION
        if session is None:
            session = boto3.DEFAULT_SESSION = boto3.Session()
        return session

    def client(*args: Any, **kwargs: Any) -> Any:
        with lock:  # a boto3 Session is not safe for concurrent client creation
            return default_session().client(*args, **kwargs)

    monkeypatch.setattr(boto3, "__class__", _PerThreadDefaultSession)
    monkeypatch.setattr(boto3, "_get_default_session", default_session)
    monkeypatch.setattr(boto3, "client", client)


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.start = start
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def millis(self) -> float:
        return self.now * 1000

    def advance_to(self, when: float) -> None:
        with self.lock:
            self.now = max(self.now, when)


@dataclass
class BurstReport:
    findings: int
    account_regions: int
    consumers: int
    executions: int
    simulated_makespan: float
    wall_seconds: float
    deliveries: int
    duplicates_injected: int
    throttles_injected: int
    abandoned_injected: int
    starts: int
    min_gap: float
    statuses: Counter = field(default_factory=Counter)

    @property
    def throughput_simulated(self) -> float:
        return self.findings / self.simulated_makespan if self.simulated_makespan else float("inf")

    @property
    def throughput_wall(self) -> float:
        return self.findings / self.wall_seconds if self.wall_seconds else float("inf")

    def lines(self) -> list[str]:
        return [
            f"findings {self.findings} across {self.account_regions} account-Regions, {self.executions} executions, "
            f"{self.consumers} consumers",
            f"deliveries {self.deliveries} (injected: {self.duplicates_injected} duplicates, "
            f"{self.throttles_injected} throttled, {self.abandoned_injected} processed but not deleted)",
            f"makespan simulated {self.simulated_makespan:.0f} s, wall {self.wall_seconds:.1f} s",
            f"throughput {self.throughput_simulated:.2f} findings/s simulated, "
            f"{self.throughput_wall:.2f} findings/s wall",
            f"automations started {self.starts}; smallest gap between starts in one account-Region "
            f"{self.min_gap:.1f} s",
        ]


class Burst:
    def __init__(
        self,
        harness: Harness,
        monkeypatch: pytest.MonkeyPatch,
        *,
        findings: int,
        account_regions: int,
        consumers: int = 4,
        findings_per_event: int = 20,
        duplicate_rate: float = 0.05,
        throttle_rate: float = 0.03,
        abandon_rate: float = 0.03,
        spacing: int = solution.REMEDIATION_WAIT_SECONDS,
        seed: int = 14,
    ) -> None:
        assert not harness.event_source, "the burst runs its own consumers"
        self.h = harness
        self.n = findings
        self.consumers = consumers
        self.per_event = findings_per_event
        self.rates = (duplicate_rate, throttle_rate, abandon_rate)
        self.spacing = spacing
        self.rng = random.Random(seed)
        self.rng_lock = threading.Lock()
        self.clock = FakeClock()
        self.local = threading.local()
        self.injected = Counter()
        self.deliveries = 0
        self.sfn_sends = 0
        self.starts: list[tuple[str, str, str, float]] = []  # (account, region, job tag, fake time)
        self.cond = threading.Condition()
        self.count_lock = threading.Lock()
        self.idle: set[int] = set()
        self.epoch = 0
        self.stop = False
        self.errors: list[BaseException] = []
        self._next_progress = time.monotonic() + 60  # a progress line a minute (stdout)
        # the configured spacing and poll delays, on the fake clock
        monkeypatch.setenv("REMEDIATION_WAIT_SECONDS", str(spacing))
        monkeypatch.setenv("POLL_INITIAL_SECONDS", "15")
        monkeypatch.setenv("START_LEASE_SECONDS", "120")
        monkeypatch.setattr(worker, "clock", self.clock)
        monkeypatch.setattr(sqs_models, "unix_time", self.clock)
        monkeypatch.setattr(sqs_models, "unix_time_millis", self.clock.millis)
        per_thread_boto3(monkeypatch)
        atomic_dynamodb(monkeypatch)
        self._wrap_sends(monkeypatch)
        self._wrap_starts(monkeypatch)
        self._inject_throttling(monkeypatch)
        self.places = self._members(account_regions)

    # --- instrumentation ---------------------------------------------------------------------

    def _wrap_sends(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = sqs_models.SQSBackend.send_message
        burst = self

        def send_message(backend: Any, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
            if not getattr(burst.local, "consumer", False) and queue_name == burst.h.queue_name:
                with burst.count_lock:
                    burst.sfn_sends += 1  # sent by the state machine's task (not by a worker or a duplicate)
            return original(backend, queue_name, message_body, *args, **kwargs)

        monkeypatch.setattr(sqs_models.SQSBackend, "send_message", send_message)

    def _wrap_starts(self, monkeypatch: pytest.MonkeyPatch) -> None:
        router, original, burst = self.h.router, self.h.router.start, self

        def start(account: str, region: str, name: str, parameters: dict, tags: list[dict]) -> str:
            exec_id = original(account, region, name, parameters, tags)
            tag = next((t["Key"] for t in tags or [] if t["Key"].startswith(worker.TAG_PREFIX)), "")
            with burst.count_lock:
                burst.starts.append((account, region, tag, burst.clock()))
            return exec_id

        monkeypatch.setattr(router, "start", start)

    def _inject_throttling(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original, burst = worker.Worker.process, self

        def process(self: worker.Worker, body: dict[str, Any]) -> str:
            if burst._chance(burst.rates[1]):
                burst.injected["throttled"] += 1
                raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetItem")
            return original(self, body)

        monkeypatch.setattr(worker.Worker, "process", process)

    def _chance(self, rate: float) -> bool:
        with self.rng_lock:
            return self.rng.random() < rate

    # --- member accounts ------------------------------------------------------------------------

    def _members(self, count: int) -> list[tuple[str, str]]:
        self.h.install_playbook()
        content, _ = lambda1_runbook()
        self.h.registry.add(SC_RUNBOOK, content)
        places, accounts = [], (count + len(REGIONS) - 1) // len(REGIONS)
        for a in range(accounts):
            account = f"{200000000000 + a:012d}"
            session = self.h.install_member(account, roles=(REMEDIATION_ROLE,))
            creds = session.get_credentials()
            for region in REGIONS:
                if len(places) == count:
                    break
                regional = boto3.Session(
                    aws_access_key_id=creds.access_key,
                    aws_secret_access_key=creds.secret_key,
                    aws_session_token=creds.token,
                    region_name=region,
                )
                regional.client("ssm").create_document(
                    Name=SC_RUNBOOK, Content=json.dumps(content), DocumentType="Automation", DocumentFormat="JSON"
                )
                places.append((account, region))
        return places

    def findings(self) -> list[dict[str, Any]]:
        out = []
        for i in range(self.n):
            account, region = self.places[i % len(self.places)]
            arn = f"arn:aws:lambda:{region}:{account}:function:fn-{i}"
            out.append(
                make_finding(
                    "Lambda.1",
                    arn,
                    resource_type="AwsLambdaFunction",
                    standard_name="security-control",
                    standard_version="2.0.0",
                    account_id=account,
                    region=region,
                    finding_uuid=f"00000000-0000-0000-0000-{i:012d}",
                )
            )
        return out

    # --- consumers ------------------------------------------------------------------------------

    def _queue(self) -> Any:
        return sqs_backends[ADMIN][REGION].queues[self.h.queue_name]

    def _visible(self) -> bool:
        return any(m.visible and not m.delayed for m in list(self._queue()._messages))

    def _next_time(self) -> float | None:
        times = [max(m.visible_at, m.delayed_until) for m in list(self._queue()._messages)]
        return min(times) / 1000 if times else None

    def _consume(self, index: int) -> None:
        self.local.consumer = True
        sqs = self.h.client("sqs")
        lam = self.h.client("lambda")
        seen_epoch = -1
        try:
            while True:
                got = sqs.receive_message(
                    QueueUrl=self.h.queue_url, MaxNumberOfMessages=1, VisibilityTimeout=VISIBILITY_TIMEOUT
                ).get("Messages", [])
                if not got:
                    with self.cond:
                        if self.stop:
                            return
                        self.idle.add(index)
                        self.cond.notify_all()
                        # wait for the other threads (not for time: the clock is fake)
                        last = seen_epoch
                        self.cond.wait_for(lambda last=last: self.stop or self.epoch != last, timeout=0.05)
                        seen_epoch = self.epoch
                        self.idle.discard(index)
                    continue
                [message] = got
                with self.cond:
                    self.deliveries += 1
                if self._chance(self.rates[0]):  # SQS delivers the same message twice
                    self.injected["duplicates"] += 1
                    sqs.send_message(QueueUrl=self.h.queue_url, MessageBody=message["Body"])
                event = {"Records": [{"messageId": message["MessageId"], "body": message["Body"]}]}
                answer = lam.invoke(FunctionName=solution.WORKER_FUNCTION, Payload=json.dumps(event))
                if "FunctionError" in answer:
                    continue  # not deleted: SQS delivers it again after the visibility timeout
                if self._chance(self.rates[2]):  # processed, but the poller died before deleting it
                    self.injected["abandoned"] += 1
                    continue
                sqs.delete_message(QueueUrl=self.h.queue_url, ReceiptHandle=message["ReceiptHandle"])
        except BaseException as err:  # surfaced by run()
            self.errors.append(err)
            with self.cond:
                self.stop = True
                self.cond.notify_all()

    # --- the run ------------------------------------------------------------------------------------

    def run(self, timeout: float = 600) -> BurstReport:
        findings = self.findings()
        sfn = self.h.client("stepfunctions")
        started_wall = time.monotonic()
        executions = []
        for i in range(0, len(findings), self.per_event):
            event = custom_action_event(findings[i : i + self.per_event])
            executions.append(
                sfn.start_execution(stateMachineArn=self.h.machine_arn, name=f"burst-{i}", input=json.dumps(event))[
                    "executionArn"
                ]
            )
        threads = [threading.Thread(target=self._consume, args=(k,), daemon=True) for k in range(self.consumers)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + timeout
        try:
            while True:
                if time.monotonic() > deadline:
                    raise AssertionError(f"burst not done after {timeout} s of wall time")
                if os.environ.get("BURST_DEBUG") or time.monotonic() > self._next_progress:
                    self._next_progress = time.monotonic() + 60
                    print(
                        f"sends {self.sfn_sends} idle {len(self.idle)} deliveries {self.deliveries} "
                        f"clock {self.clock.now - self.clock.start:.0f} starts {len(self.starts)} "
                        f"queued {len(self._queue()._messages)}",
                        flush=True,
                    )
                # (never a moto call while holding self.cond: the state machine's threads take it
                # when they send, while moto holds its own locks)
                with self.cond:
                    self.cond.wait_for(lambda: self.stop or len(self.idle) == self.consumers, timeout=0.2)
                    if self.stop:
                        break
                    all_idle = len(self.idle) == self.consumers
                if not all_idle:
                    continue
                if self.sfn_sends < self._expected_jobs():
                    if self._done(sfn, executions):
                        break
                    continue  # findings still being resolved: time waits for them
                if not self._visible():
                    upcoming = self._next_time()
                    if upcoming is None:
                        if self._done(sfn, executions):
                            break
                        continue
                    self.clock.advance_to(upcoming + 0.001)
                with self.cond:
                    self.epoch += 1
                    self.cond.notify_all()
        finally:
            with self.cond:
                self.stop = True
                self.cond.notify_all()
            for thread in threads:
                thread.join(timeout=30)
        if self.errors:
            raise self.errors[0]
        wall = time.monotonic() - started_wall
        statuses = Counter(sfn.describe_execution(executionArn=a)["status"] for a in executions)
        return BurstReport(
            findings=self.n,
            account_regions=len(self.places),
            consumers=self.consumers,
            executions=len(executions),
            simulated_makespan=self.clock.now - self.clock.start,
            wall_seconds=wall,
            deliveries=self.deliveries,
            duplicates_injected=self.injected["duplicates"],
            throttles_injected=self.injected["throttled"],
            abandoned_injected=self.injected["abandoned"],
            starts=len(self.starts),
            min_gap=self.min_gap(),
            statuses=statuses,
        )

    @staticmethod
    def _done(sfn: Any, executions: list[str]) -> bool:
        return all(sfn.describe_execution(executionArn=a)["status"] != "RUNNING" for a in executions)

    def _expected_jobs(self) -> int:
        """Task-token messages the state machine will send: one per READY finding, once every
        finding is resolved (until then, more may come: the clock waits)."""
        resolved = [i for i in list(self.h.dispatcher.invocations) if i.function == solution.RESOLVE_FUNCTION]
        done = [i for i in resolved if i.result is not None or i.errored]
        if len(done) < self.n:
            return self.n + 1  # not all resolved yet
        return sum(1 for i in done if isinstance(i.result, dict) and i.result.get("Outcome") == "READY")

    def min_gap(self) -> float:
        by_place: dict[tuple[str, str], list[float]] = defaultdict(list)
        for account, region, _, when in self.starts:
            by_place[(account, region)].append(when)
        gaps = [b - a for times in by_place.values() for a, b in zip(sorted(times), sorted(times)[1:], strict=False)]
        return min(gaps) if gaps else float("inf")
