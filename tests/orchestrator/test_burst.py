"""A reduced burst through the synthesized state machine and the scheduler (issue 14):
8 findings across 2 account-Regions, 4 concurrent consumers, duplicated, throttled and
undeleted deliveries, on a fake clock; each finding's function public before, remediated once
(SUCCESS) after. The full 1,000 / 100 burst is benchmarks/bench_burst.py. Below it, tests of the
burst's own moto work-arounds (tests/orchestrator/burst.py)."""

from __future__ import annotations

import copy
import json
import threading
from collections import Counter

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError

from asr import solution
from tests.orchestrator.burst import Burst, atomic_dynamodb, atomic_sqs, shared_model_cache
from tests.orchestrator.harness import Harness

#: small enough for the default run (the full burst: benchmarks/bench_burst.py)
FINDINGS, PLACES = 8, 2


#: frequent enough that each kind of bad delivery happens in a small burst
RATES = {"duplicate_rate": 0.2, "throttle_rate": 0.15, "abandon_rate": 0.15}


@pytest.fixture
def burst_harness(moto_admin: None, monkeypatch: pytest.MonkeyPatch) -> Harness:
    return Harness(monkeypatch, event_source=False)


def test_a_burst_loses_nothing_duplicates_nothing_and_keeps_the_spacing(burst_harness: Harness, monkeypatch):
    burst = Burst(burst_harness, monkeypatch, findings=FINDINGS, account_regions=PLACES, consumers=4, **RATES)

    report = burst.run()

    print("\n" + "\n".join(report.lines()))
    assert report.statuses == Counter({"SUCCEEDED": report.executions})
    # the failures the burst is about did happen: copies delivered, messages delivered again
    assert report.duplicates_injected and report.throttles_injected and report.abandoned_injected
    assert report.duplicate_deliveries and report.redeliveries
    assert report.deliveries > FINDINGS
    # none lost, none remediated twice: one automation per finding, one job tag each
    tags = Counter(tag for _, _, tag, _ in burst.starts)
    assert len(tags) == FINDINGS and set(tags.values()) == {1}
    assert (report.jobs_started, report.duplicate_starts, report.starts) == (FINDINGS, 0, FINDINGS)
    # each finding ends with exactly one final notification (and one QUEUED)
    notes = burst_harness.notifications()
    finals = Counter(n["finding"]["finding_id"] for n in notes if n["Remediation_Status"] != "QUEUED")
    queued = Counter(n["finding"]["finding_id"] for n in notes if n["Remediation_Status"] == "QUEUED")
    assert len(finals) == FINDINGS and set(finals.values()) == {1}, finals.most_common(3)
    assert set(queued.values()) == {1} and len(queued) == FINDINGS
    # and each remediation did its work: every function public before, none after
    assert {n["Remediation_Status"] for n in notes if n["Remediation_Status"] != "QUEUED"} == {"SUCCESS"}
    assert burst.still_public() == []
    # never two starts in one account-Region closer than the configured spacing (fake clock)
    assert report.min_gap >= solution.REMEDIATION_WAIT_SECONDS
    per_place = FINDINGS // PLACES
    assert report.simulated_makespan >= (per_place - 1) * solution.REMEDIATION_WAIT_SECONDS


# --- the burst's own machinery (tests/orchestrator/burst.py) -------------------------------------


def test_transactions_stay_all_or_nothing_without_moto_copying_the_table(moto_admin: None, monkeypatch):
    """atomic_dynamodb saves and restores only the items a transaction names: a cancelled
    transaction still leaves the table as it was (a new item gone, an updated one unchanged)."""
    from moto.dynamodb.models.table import Table

    atomic_dynamodb(monkeypatch)
    copies = []
    original = Table.__deepcopy__ if "__deepcopy__" in vars(Table) else None

    def counted(self, memo):  # any whole-table copy (moto's own snapshot) is counted
        copies.append(self.name)
        if original is not None:
            return original(self, memo)
        clone = object.__new__(Table)
        clone.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return clone

    monkeypatch.setattr(Table, "__deepcopy__", counted, raising=False)
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="t", Item={"k": {"S": "a"}, "v": {"N": "1"}, "m": {"M": {"x": {"L": [{"S": "y"}]}}}})
    before = ddb.scan(TableName="t")["Items"]
    put_b = {"Put": {"TableName": "t", "Item": {"k": {"S": "b"}, "v": {"N": "2"}}}}
    update_a = {
        "Update": {
            "TableName": "t",
            "Key": {"k": {"S": "a"}},
            "UpdateExpression": "SET v = :v",
            "ConditionExpression": "v = :old",
            "ExpressionAttributeValues": {":v": {"N": "5"}, ":old": {"N": "%s"}},
        }
    }

    def update(old: str) -> dict:
        return json.loads(json.dumps(update_a).replace("%s", old))

    # the Put is applied first, then the Update's condition fails: both undone
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(TransactItems=[put_b, update("9")])
    assert err.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert ddb.scan(TableName="t")["Items"] == before
    # the Update applied first, then a Put's condition fails: the Update undone
    failing_put = {"Put": {**put_b["Put"], "ConditionExpression": "attribute_exists(k)"}}
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=[update("1"), failing_put])
    assert ddb.scan(TableName="t")["Items"] == before
    # and a transaction that passes applies both
    ddb.transact_write_items(TransactItems=[update("1"), put_b])
    items = {i["k"]["S"]: i["v"]["N"] for i in ddb.scan(TableName="t")["Items"]}
    assert items == {"a": "5", "b": "2"}
    assert copies == []  # moto never copied the whole table


def test_the_model_cache_is_shared_between_sessions_and_keyed_by_search_path(monkeypatch):
    store = shared_model_cache(monkeypatch)
    first = boto3.Session(region_name="us-east-1").client("ssm")
    loaded = len(store)
    [ssm_key] = [key for _, key in store if key[:3] == ("load_service_model", "ssm", "service-2")]
    session = boto3.Session(region_name="us-east-1")
    loader = session._session.get_component("data_loader")
    assert ssm_key in loader._cache  # a new session finds the model already loaded
    second = session.client("ssm")
    assert len(store) == loaded  # and loads nothing again
    assert second.meta.service_model.operation_names == first.meta.service_model.operation_names
    # a loader with other search paths does not see these entries
    assert ssm_key not in botocore.session.create_loader("/nonexistent-models")._cache


def test_a_delete_excludes_a_concurrent_send_so_no_message_is_lost(moto_admin: None, monkeypatch):
    """moto's Queue.delete_message rebuilds the message list while another thread may append to
    it (a worker's requeue): with atomic_sqs, a send cannot run during a delete (nor a receive)."""
    from moto.sqs import models as sqs_models

    atomic_sqs(monkeypatch)
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    queue = sqs_models.sqs_backends["123456789012"]["us-east-1"].queues["q"]
    sqs.send_message(QueueUrl=url, MessageBody="one")
    sqs.send_message(QueueUrl=url, MessageBody="two")
    [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    could_append: list[bool] = []
    original = sqs_models.Message.had_receipt_handle

    def during_delete(self, receipt_handle):  # another thread tries to take the lock add_message takes
        def attempt() -> None:
            got = queue._messages_lock.acquire(blocking=False)
            could_append.append(got)
            if got:
                queue._messages_lock.release()

        other = threading.Thread(target=attempt)
        other.start()
        other.join()
        return original(self, receipt_handle)

    monkeypatch.setattr(sqs_models.Message, "had_receipt_handle", during_delete)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    monkeypatch.setattr(sqs_models.Message, "had_receipt_handle", original)
    assert could_append and not any(could_append)
    # and the queue still works: the other message is there, the deleted one is not
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert bodies == [b for b in ("one", "two") if b != message["Body"]]
