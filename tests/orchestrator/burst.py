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

Where the time goes (py-spy at 50, 100 and 200 findings, issue 14) and what the burst does
about it, without changing what it proves (the same handlers, state machine, IAM checks,
conditional writes and redeliveries):

* Loading botocore's service models: three quarters of the CPU at 50 findings. Every
  ``boto3.Session`` has its own loader, and the handlers make a new session per member-role
  assumption (resolve, and the worker on every delivery: lambdas/orchestrator/aws.py
  ``member_session``), so each of their clients parsed the SSM/IAM/STS models, endpoints and
  partitions from disk again. Those are static files: ``shared_model_cache`` keeps one cache
  for every loader with the same search paths.
* Creating clients: the handlers create them on every invocation (an SSL context and an
  event-handler tree each), serialized by ``per_thread_boto3``'s lock: a third of the
  consumers' CPU once the models were cached. ``boto3.client(...)`` of the burst's base session
  now returns one shared client per set of arguments (clients are thread safe).
* Idle polling: an idle consumer called ReceiveMessage every 50 ms, each call listing the
  whole queue in moto (``Queue.messages``, about 1,000 delayed messages at 1,000 findings),
  and the main loop described every execution every 200 ms while the findings were resolved.
  Consumers now wait for a *change* (a message sent to the scheduling queue, or the clock
  moved), and the main loop counts resolved findings as resolve answers.
* moto's TransactWriteItems deep-copies every table it names (twice for the worker's two
  items) to roll back: O(jobs) per transaction, O(n^2) over the burst (``atomic_dynamodb``
  saves and restores the named items instead: same all-or-nothing result).
* Not time, but what stopped the first full run: moto's ``Queue.delete_message`` rebuilds the
  message list without the lock ``add_message`` appends under, so a requeue concurrent with a
  delete was lost (999 of 1,000 started). ``atomic_sqs`` makes those requests atomic, and the
  burst now fails ("a job was lost") instead of waiting for its timeout when nothing is queued
  and an execution still waits.

After (CPU of the whole process during the run): 280, 256, 233 and 272 ms a finding at 50,
100, 200 and 1,000 findings: linear. Before: about 950 ms a finding at 100 findings (user CPU
less setup), and the 1,000-finding burst did not finish (slow, then a lost job: above). The
state machine's threads peak at about 3.2 a finding (Map item and task threads, waiting on
events: no CPU).
"""

from __future__ import annotations

import io
import json
import os
import random
import threading
import time
import types
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.sqs import models as sqs_models
from moto.sqs.models import sqs_backends

from asr import solution
from asr.simulator.actions import script
from asr.simulator.findings import custom_action_event, make_finding
from lambdas.orchestrator import worker
from tests.orchestrator.harness import ADMIN, REGION, Harness
from tests.orchestrator.scenarios import REMEDIATION_ROLE, SC_RUNBOOK, lambda1_runbook

REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "eu-central-1")
VISIBILITY_TIMEOUT = 720  # the scheduling queue's, as synthesized (12 minutes)
#: how long a waiting thread sleeps before it looks again anyway (a safety net: every change
#: that matters wakes it; time is fake, so this never moves the clock)
RECHECK_SECONDS = 1.0
#: checks (each after up to RECHECK_SECONDS) with nothing queued and an execution still running
#: before the burst says a job was lost (the last task answers take a moment to end executions)
STALL_CHECKS = 30


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
    (a transaction deep-copies a table another thread is writing). One lock per request.

    moto 5.2 makes a transaction all-or-nothing by deep-copying every table it names, twice
    when two of its items are in one table (``DynamoDBBackend.transact_write_items``), and
    puts the copy back when an item fails. The scheduling table holds a job per finding, so
    each of the worker's transactions cost O(jobs): O(n^2) over a burst. Under the lock no
    other request runs meanwhile, so the items the transaction names are the only ones it can
    change: they are saved (deep copies) before, and put back when it fails, which leaves the
    table exactly as moto's whole-table copy would. The table itself is no longer copied."""
    from moto.dynamodb import models as ddb_models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    lock = threading.RLock()
    for name in ("get_item", "put_item", "update_item", "delete_item", "transact_write_items", "query", "scan"):
        original = getattr(DynamoDBBackend, name)

        def locked(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)

    real_copy = ddb_models.copy
    by_item = threading.local()

    class _Copy:
        """``copy`` as moto.dynamodb.models sees it: a Table inside one of our transactions is not
        copied (the transaction's items are, below); everything else as the real module does."""

        copy = staticmethod(real_copy.copy)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            if getattr(by_item, "on", False) and isinstance(value, Table):
                return value
            return real_copy.deepcopy(value, memo)

    monkeypatch.setattr(ddb_models, "copy", _Copy)
    transact = DynamoDBBackend.transact_write_items  # (the locked one)

    def saved_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[str, dict, Any]]:
        saved = []
        for entry in transact_items:
            (kind, op), *_ = entry.items()
            table = backend.get_table(op["TableName"])
            if kind == "Put":
                names = [n for n in (table.hash_key_attr, table.range_key_attr) if n is not None]
                key = {n: op["Item"][n] for n in names}
            else:
                key = op["Key"]
            saved.append((op["TableName"], key, real_copy.deepcopy(backend.get_item(op["TableName"], key))))
        return saved

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        with lock:
            try:
                saved = saved_items(self, transact_items)
            except Exception:
                return transact(self, transact_items)  # malformed: moto refuses it as it would
            by_item.on = True
            try:
                return transact(self, transact_items)
            except Exception:
                for table_name, key, item in saved:  # all or nothing
                    if item is None:
                        if self.get_item(table_name, key) is not None:
                            self.delete_item(table_name, key)
                    else:
                        self.put_item(table_name, item.to_json()["Attributes"])
                raise
            finally:
                by_item.on = False

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact_write_items)


def atomic_sqs(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQS never loses a message; moto 5.2's queue can, with concurrent callers.
    ``Queue.add_message`` appends under the queue's ``_messages_lock``, but ``Queue.delete_message``
    rebuilds ``_messages`` into a new list without it (moto/sqs/models.py, ``delete_message``): a
    message sent (a worker's requeue) while another consumer deletes one is appended to the old
    list and vanishes. That lost a job in a 1,000-finding burst (999 started, the execution
    waiting for ever). Here a delete, and a receive (it marks the messages it returns), hold that
    same lock: each request atomic, as SQS's are."""
    original_delete = sqs_models.Queue.delete_message
    original_receive = sqs_models.SQSBackend.receive_message

    def delete_message(self: Any, receipt_handle: str) -> None:
        with self._messages_lock:
            return original_delete(self, receipt_handle)

    def receive_message(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        with self.get_queue(queue_name)._messages_lock:
            return original_receive(self, queue_name, *args, **kwargs)

    monkeypatch.setattr(sqs_models.Queue, "delete_message", delete_message)
    monkeypatch.setattr(sqs_models.SQSBackend, "receive_message", receive_message)


def _client_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What makes two ``boto3.client(...)`` calls of one session equal, or None (not cached)."""
    parts: list[Any] = list(args)
    for name, value in sorted(kwargs.items()):
        if isinstance(value, Config):
            value = ("Config", repr(sorted(value._user_provided_options.items())))
        elif not isinstance(value, str | int | float | bool | type(None)):
            return None
        parts.append((name, value))
    return tuple(parts)


def per_thread_boto3(monkeypatch: pytest.MonkeyPatch) -> dict[Any, Any]:
    """Each thread its own ``boto3.DEFAULT_SESSION`` (above); and ``boto3.client(...)`` of the
    session the burst started with returns one client per distinct set of arguments, shared
    by every thread, instead of a new one per call: low-level clients are thread safe
    (https://boto3.amazonaws.com/v1/documentation/api/latest/guide/clients.html, "Multithreading
    or multiprocessing with clients"). The handlers create clients on every invocation, and each
    creation built an SSL context and an event-handler tree: a third of the consumers' CPU. A
    client holds no state the calls depend on: who calls is decided per call (the IAM enforcer
    reads the credentials and the acting role then), and no botocore retry happens here (the
    throttling the burst injects is raised before the worker calls AWS)."""
    _PerThreadDefaultSession.base = boto3.DEFAULT_SESSION
    _PerThreadDefaultSession.local = threading.local()
    lock = threading.Lock()

    def default_session() -> Any:
        # a script step's session is its thread's (asr/simulator/actions/script.py), else boto3's
        session = getattr(script._scripts, "session", None) or boto3.DEFAULT_SESSION
        if session is None:
            session = boto3.DEFAULT_SESSION = boto3.Session()
        return session

    base = _PerThreadDefaultSession.base
    clients: dict[Any, Any] = {}

    def client(*args: Any, **kwargs: Any) -> Any:
        with lock:  # a boto3 Session is not safe for concurrent client creation
            session = default_session()
            key = _client_key(args, kwargs) if session is base and base is not None else None
            if key is None:
                return session.client(*args, **kwargs)
            if key not in clients:
                clients[key] = session.client(*args, **kwargs)
            return clients[key]

    monkeypatch.setattr(boto3, "__class__", _PerThreadDefaultSession)
    monkeypatch.setattr(boto3, "_get_default_session", default_session)
    monkeypatch.setattr(boto3, "client", client)
    return clients


class _SharedLoaderCache(dict):
    """A botocore ``Loader._cache`` (what its ``instance_cache`` methods memoize: service models,
    endpoint rule sets, ``endpoints``, ``partitions``) kept in one store for every loader with the
    same search paths. The key holds the paths as they are at lookup time: boto3 appends its own
    data directory to a session's loader after creating it."""

    def __init__(self, loader: Any, store: dict[Any, Any], lock: threading.Lock) -> None:
        super().__init__()
        self.loader, self.store, self.lock = loader, store, lock

    def _key(self, key: Any) -> Any:
        return (tuple(self.loader.search_paths), key)

    def __contains__(self, key: object) -> bool:
        return self._key(key) in self.store

    def __getitem__(self, key: Any) -> Any:
        return self.store[self._key(key)]

    def __setitem__(self, key: Any, value: Any) -> None:
        with self.lock:
            self.store.setdefault(self._key(key), value)


def shared_model_cache(monkeypatch: pytest.MonkeyPatch) -> dict[Any, Any]:
    """Every botocore loader created from now on reads the service models once per process, not
    once per session. Botocore already shares these (read-only) objects between the clients of
    one session; this shares them between sessions. Returns the store (for tests)."""
    store: dict[Any, Any] = {}
    lock = threading.Lock()
    original = botocore.session.create_loader

    def create_loader(search_path_string: Any = None) -> Any:
        loader = original(search_path_string)
        loader._cache = _SharedLoaderCache(loader, store, lock)
        return loader

    monkeypatch.setattr(botocore.session, "create_loader", create_loader)
    return store


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
    #: deliveries of a message already delivered once (its visibility timeout ran out)
    redeliveries: int = 0
    #: deliveries of an injected copy of a message
    duplicate_deliveries: int = 0
    #: distinct remediation jobs started, and starts beyond the first of a job (must be 0)
    jobs_started: int = 0
    duplicate_starts: int = 0
    #: wall seconds until the state machine had sent every job (the findings resolved)
    resolve_wall_seconds: float = 0.0
    empty_receives: int = 0
    clock_moves: int = 0
    #: CPU seconds of the process during the run (all threads: less sensitive to other load than wall)
    cpu_seconds: float = 0.0
    #: most threads alive at once (the state machine's Map items and tasks each have one)
    peak_threads: int = 0

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
            f"deliveries {self.deliveries}: {self.redeliveries} redeliveries after the visibility timeout, "
            f"{self.duplicate_deliveries} of duplicate copies (injected: {self.duplicates_injected} duplicates, "
            f"{self.throttles_injected} throttled, {self.abandoned_injected} processed but not deleted)",
            f"automations started {self.starts} for {self.jobs_started} jobs ({self.duplicate_starts} duplicate "
            f"starts); smallest gap between starts in one account-Region {self.min_gap:.1f} s",
            f"makespan simulated {self.simulated_makespan:.0f} s; wall {self.wall_seconds:.1f} s "
            f"(findings resolved and sent after {self.resolve_wall_seconds:.1f} s)",
            f"throughput {self.throughput_simulated:.3f} findings/s simulated, "
            f"{self.throughput_wall:.2f} findings/s wall",
            f"CPU {self.cpu_seconds:.1f} s ({1000 * self.cpu_seconds / max(1, self.findings):.0f} ms a finding); "
            f"idle receives {self.empty_receives}, clock moves {self.clock_moves}, peak threads {self.peak_threads}",
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
        #: bumped (under ``cond``) whenever a consumer may find something new: a message sent to
        #: the scheduling queue, or the clock moved
        self.changes = 0
        #: idle consumer -> the ``changes`` it saw when its receive came back empty
        self.idle: dict[int, int] = {}
        self.stop = False
        self.errors: list[BaseException] = []
        #: finding id -> resolve's outcome (None: resolve failed), as each Map item resolves
        self.resolved: dict[str, str | None] = {}
        self.received: set[str] = set()  # message ids delivered at least once
        self.copies: set[str] = set()  # message ids of injected duplicates
        self.counts = Counter()
        self._next_progress = time.monotonic() + 60  # a progress line a minute (stdout)
        # the configured spacing and poll delays, on the fake clock
        monkeypatch.setenv("REMEDIATION_WAIT_SECONDS", str(spacing))
        monkeypatch.setenv("POLL_INITIAL_SECONDS", "15")
        monkeypatch.setenv("START_LEASE_SECONDS", "120")
        monkeypatch.setattr(worker, "clock", self.clock)
        monkeypatch.setattr(sqs_models, "unix_time", self.clock)
        monkeypatch.setattr(sqs_models, "unix_time_millis", self.clock.millis)
        self.clients = per_thread_boto3(monkeypatch)
        atomic_dynamodb(monkeypatch)
        atomic_sqs(monkeypatch)
        shared_model_cache(monkeypatch)
        self._wrap_sends(monkeypatch)
        self._wrap_starts(monkeypatch)
        self._watch_resolve(monkeypatch)
        self._inject_throttling(monkeypatch)
        self.sessions: dict[tuple[str, str], boto3.Session] = {}  # setup sessions of the member places
        self.places = self._members(account_regions)
        self._public_functions()

    # --- instrumentation ---------------------------------------------------------------------

    def _changed(self) -> None:
        with self.cond:
            self.changes += 1
            self.cond.notify_all()

    def _wrap_sends(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = sqs_models.SQSBackend.send_message
        burst = self

        def send_message(backend: Any, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
            sent = original(backend, queue_name, message_body, *args, **kwargs)
            if queue_name == burst.h.queue_name:
                if not getattr(burst.local, "consumer", False):
                    with burst.count_lock:
                        burst.sfn_sends += 1  # sent by the state machine's task (not by a worker or a duplicate)
                burst._changed()  # (after the send: a consumer that missed it sees the change)
            return sent

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

    def _watch_resolve(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Record each finding's resolve outcome as it comes (the clock waits until every finding
        is resolved and every READY one sent). resolve's Retry covers Lambda service errors only,
        which the in-process dispatcher never raises: a failed resolve is final (Catch)."""
        dispatcher, original, burst = self.h.dispatcher, self.h.dispatcher.invoke, self

        def invoke(function: Any, event: Any) -> tuple[str, bool, str]:
            answer = original(function, event)
            if function.function_name == solution.RESOLVE_FUNCTION:
                payload, errored = answer[0], answer[1]
                # resolve's payload: {State, ExecutionArn, ExecutionStartTime} (asr/admin/orchestrator.py)
                item = (event.get("State") or event) if isinstance(event, dict) else {}
                finding_id = str((item.get("Finding") or {}).get("Id", ""))
                outcome = None if errored else (json.loads(payload) or {}).get("Outcome")
                with burst.count_lock:
                    burst.resolved[finding_id] = outcome
            return answer

        monkeypatch.setattr(dispatcher, "invoke", invoke)

    def _inject_throttling(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original, burst = worker.Worker.process, self

        def process(self: worker.Worker, body: dict[str, Any]) -> str:
            if burst._chance(burst.rates[1]):
                with burst.count_lock:
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
                self.sessions[(account, region)] = regional
        return places

    def _public_functions(self) -> None:
        """The finding's resource, as Lambda.1 reports it: a function anyone may invoke (so each
        remediation has something to do, and its effect can be checked)."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("index.py", "def handler(event, context):\n    return {}\n")
        code, roles = buf.getvalue(), {}
        for i in range(self.n):
            place = self.places[i % len(self.places)]
            session = self.sessions[place]
            if place[0] not in roles:
                roles[place[0]] = session.client("iam").create_role(
                    RoleName="burst-function-role", AssumeRolePolicyDocument=json.dumps({"Statement": []})
                )["Role"]["Arn"]
            lam = session.client("lambda")
            lam.create_function(
                FunctionName=f"fn-{i}",
                Runtime="python3.12",
                Role=roles[place[0]],
                Handler="index.handler",
                Code={"ZipFile": code},
            )
            lam.add_permission(
                FunctionName=f"fn-{i}", StatementId="public", Action="lambda:InvokeFunction", Principal="*"
            )

    def still_public(self) -> list[str]:
        """The burst's functions whose policy still lets anyone invoke them (after the run: none)."""
        public = []
        for i in range(self.n):
            lam = self.sessions[self.places[i % len(self.places)]].client("lambda")
            try:
                policy = json.loads(lam.get_policy(FunctionName=f"fn-{i}")["Policy"])
            except lam.exceptions.ResourceNotFoundException:
                continue
            if any(st.get("Principal") in ("*", {"AWS": "*"}) for st in policy.get("Statement", [])):
                public.append(f"fn-{i}")
        return public

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
        try:
            while True:
                with self.cond:
                    if self.stop:
                        return
                    seen = self.changes
                got = sqs.receive_message(
                    QueueUrl=self.h.queue_url, MaxNumberOfMessages=1, VisibilityTimeout=VISIBILITY_TIMEOUT
                ).get("Messages", [])
                if not got:
                    with self.cond:
                        self.counts["empty receives"] += 1
                        if self.stop:
                            return
                        if self.changes != seen:
                            continue  # something was sent or the clock moved meanwhile: look again
                        self.idle[index] = seen
                        self.cond.notify_all()
                        # wait for a change, not for time (the clock is fake)
                        self.cond.wait_for(lambda seen=seen: self.stop or self.changes != seen, timeout=RECHECK_SECONDS)
                        del self.idle[index]
                    continue
                [message] = got
                with self.cond:
                    self.deliveries += 1
                    if message["MessageId"] in self.copies:
                        self.counts["duplicate deliveries"] += 1
                    if message["MessageId"] in self.received:
                        self.counts["redeliveries"] += 1
                    self.received.add(message["MessageId"])
                if self._chance(self.rates[0]):  # SQS delivers the same message twice
                    with self.count_lock:
                        self.injected["duplicates"] += 1
                    copy = sqs.send_message(QueueUrl=self.h.queue_url, MessageBody=message["Body"])
                    with self.cond:
                        self.copies.add(copy["MessageId"])
                event = {"Records": [{"messageId": message["MessageId"], "body": message["Body"]}]}
                answer = lam.invoke(FunctionName=solution.WORKER_FUNCTION, Payload=json.dumps(event))
                if "FunctionError" in answer:
                    continue  # not deleted: SQS delivers it again after the visibility timeout
                if self._chance(self.rates[2]):  # processed, but the poller died before deleting it
                    with self.count_lock:
                        self.injected["abandoned"] += 1
                    continue
                sqs.delete_message(QueueUrl=self.h.queue_url, ReceiptHandle=message["ReceiptHandle"])
        except BaseException as err:  # surfaced by run()
            self.errors.append(err)
            with self.cond:
                self.stop = True
                self.cond.notify_all()

    def _quiet(self) -> bool:
        """Every consumer found the queue empty, and nothing was sent nor the clock moved since
        (under ``cond``)."""
        return len(self.idle) == self.consumers and all(seen == self.changes for seen in self.idle.values())

    # --- the run ------------------------------------------------------------------------------------

    def run(self, timeout: float = 600) -> BurstReport:
        findings = self.findings()
        sfn = self.h.client("stepfunctions")
        started_wall, started_cpu = time.monotonic(), time.process_time()
        resolved_wall, peak_threads, stalled = None, 0, 0
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
                peak_threads = max(peak_threads, threading.active_count())
                if os.environ.get("BURST_DEBUG") or time.monotonic() > self._next_progress:
                    self._next_progress = time.monotonic() + 60
                    print(
                        f"[{time.monotonic() - started_wall:.0f} s] resolved {len(self.resolved)} "
                        f"sends {self.sfn_sends} idle {len(self.idle)} deliveries {self.deliveries} "
                        f"clock {self.clock.now - self.clock.start:.0f} starts {len(self.starts)} "
                        f"queued {len(self._queue()._messages)} shared clients {len(self.clients)}",
                        flush=True,
                    )
                # (never a moto call while holding self.cond: the state machine's threads take it
                # when they send, while moto holds its own locks)
                with self.cond:
                    self.cond.wait_for(lambda: self.stop or self._quiet(), timeout=RECHECK_SECONDS)
                    if self.stop:
                        break
                    quiet, seen = self._quiet(), self.changes
                if not quiet:
                    continue
                expected = self._expected_jobs()
                if expected is None or self.sfn_sends < expected:
                    # findings still being resolved (and sent): time waits for them
                    with self.cond:
                        changed = self.cond.wait_for(
                            lambda seen=seen: self.stop or self.changes != seen, timeout=RECHECK_SECONDS
                        )
                    if not changed and self._done(sfn, executions):
                        break  # every execution ended, short of what was expected: the checks say what
                    continue
                if resolved_wall is None:
                    resolved_wall = time.monotonic() - started_wall
                if not self._visible():
                    upcoming = self._next_time()
                    if upcoming is None:
                        if self._done(sfn, executions):
                            break
                        # Nothing queued, every consumer idle, and an execution still waits for a
                        # task answer: after its last steps (a moment), nothing can move it on.
                        stalled += 1
                        if stalled > STALL_CHECKS:
                            running = [
                                a for a in executions if sfn.describe_execution(executionArn=a)["status"] == "RUNNING"
                            ]
                            raise AssertionError(
                                f"a job was lost: no message left, {len(self.starts)} automations started for "
                                f"{self.sfn_sends} jobs sent, executions still waiting: {running}"
                            )
                        with self.cond:
                            self.cond.wait_for(
                                lambda seen=seen: self.stop or self.changes != seen, timeout=RECHECK_SECONDS
                            )
                        continue
                    stalled = 0
                    self.clock.advance_to(upcoming + 0.001)
                    self.counts["clock moves"] += 1
                self._changed()
        finally:
            with self.cond:
                self.stop = True
                self.cond.notify_all()
            for thread in threads:
                thread.join(timeout=30)
        if self.errors:
            raise self.errors[0]
        wall, cpu = time.monotonic() - started_wall, time.process_time() - started_cpu
        statuses = Counter(sfn.describe_execution(executionArn=a)["status"] for a in executions)
        tags = Counter(tag for _, _, tag, _ in self.starts)
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
            redeliveries=self.counts["redeliveries"],
            duplicate_deliveries=self.counts["duplicate deliveries"],
            jobs_started=len(tags),
            duplicate_starts=sum(count - 1 for count in tags.values()),
            resolve_wall_seconds=resolved_wall if resolved_wall is not None else wall,
            empty_receives=self.counts["empty receives"],
            clock_moves=self.counts["clock moves"],
            cpu_seconds=cpu,
            peak_threads=peak_threads,
        )

    @staticmethod
    def _done(sfn: Any, executions: list[str]) -> bool:
        return all(sfn.describe_execution(executionArn=a)["status"] != "RUNNING" for a in executions)

    def _expected_jobs(self) -> int | None:
        """Task-token messages the state machine sends: one per READY finding; None until every
        finding is resolved (until then, more may come: the clock waits)."""
        with self.count_lock:
            if len(self.resolved) < self.n:
                return None
            return sum(1 for outcome in self.resolved.values() if outcome == "READY")

    def min_gap(self) -> float:
        by_place: dict[tuple[str, str], list[float]] = defaultdict(list)
        for account, region, _, when in self.starts:
            by_place[(account, region)].append(when)
        gaps = [b - a for times in by_place.values() for a, b in zip(sorted(times), sorted(times)[1:], strict=False)]
        return min(gaps) if gaps else float("inf")
