"""Cost of the remediation policy per finding in the orchestrator (plain script, no pytest; no
timed assertion: it reports).

    .venv/bin/python benchmarks/bench_policy_orchestrator.py [FINDINGS]

The synthesized admin stack deployed with RemediationPolicyBucket/Key on moto, one member account
two OUs under the root, FINDINGS public Lambda functions (default 20), half of them tagged
``Env=prod``. The policy (below) needs everything a decision can ask for: the compiled policy
(S3 GetObject), the account's OUs (Organizations ListParents) and the resource's tags now (the
Tagging API GetResources, as the member orchestrator role). Each finding goes through the state
machine in its own execution, as an Imported event; resolve's ``enforce.decide`` is timed, and
every AWS call made inside it is counted by operation.

Prints, per finding in order (the first is a cold container: no policy, no OU answers cached),
the outcome, the calls inside decide and its wall time; then the totals, and the same run without
a policy (no call, nothing decided). Times are moto's, in this process (AWS's latency differs:
count the calls); compare with benchmarks/bench_policy.py for ``decide`` alone (µs).

Measured (20 findings): per finding 0.05 s3:GetObject (one read per warm container), 0.15
organizations:ListParents (3 for the first account two OUs deep, then cached), 0.95 GetResources
(every decision that reached the tag rule; the exempt one stopped before it) and no AssumeRole:
the tag lookup reuses resolve's member session (aws.session_scope). decide on moto: 5.9 ms for
the first, then median 3.6 ms, max 22.3 ms. Before the session was shared: 0.95 sts:AssumeRole
per finding and a median of 49.7 ms (a new session's clients each time). Without a policy: no
call, 0.0 ms.
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from moto.core.config import default_user_config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's tests package

from asr import solution
from asr.policy import store
from asr.simulator import organizations
from asr.simulator.findings import imported_event
from lambdas.orchestrator import enforce, notifications
from tests.conftest import multi_account_moto
from tests.orchestrator.harness import ADMIN, MEMBER, REGION, Harness
from tests.orchestrator.scenarios import lambda1_finding, member_with_lambda1, public_function

BUCKET, KEY = "asr-policy-123456789012", "asr/policy.yaml"
POLICY = """\
version: 1
global:
  scope:
    include: {{ous: ["{ou}"]}}
    exclude: {{tags: [Env=prod]}}
  exemptions:
    - resource: arn:aws:lambda:us-east-1:{member}:function:bench-0
      reason: kept public on purpose (bench)
      owner: bench@example.com
      expires: 2099-01-01T00:00:00Z
"""


class _Counting:
    """AWS calls made inside enforce.decide (in the thread that decides), by operation."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.per_finding: list[tuple[Counter[str], float, str]] = []
        self.lock = threading.Lock()

    def install(self, mp: pytest.MonkeyPatch) -> None:
        call, decide, counting = BaseClient._make_api_call, enforce.decide, self

        def make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            calls = getattr(counting.local, "calls", None)
            if calls is not None:
                calls[f"{client.meta.service_model.service_name}:{operation}"] += 1
            return call(client, operation, params)

        def timed_decide(*args: Any, **kwargs: Any) -> Any:
            counting.local.calls = Counter()
            start = time.perf_counter()
            outcome = "error"
            try:
                decided = decide(*args, **kwargs)
                outcome = decided[1].outcome if decided else "no policy"
                return decided
            finally:
                elapsed = time.perf_counter() - start
                with counting.lock:
                    counting.per_finding.append((counting.local.calls, elapsed, outcome))
                counting.local.calls = None

        mp.setattr(BaseClient, "_make_api_call", make_api_call)
        mp.setattr(enforce, "decide", timed_decide)


def _run(findings: int, with_policy: bool) -> _Counting:
    counting = _Counting()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }.items():
            mp.setenv(key, value)
        mp.setattr(notifications, "_metrics_enabled", None)
        mp.setattr(enforce, "_cache", None)
        mp.setattr(enforce, "_ou_resolver", None)
        mp.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
        with multi_account_moto(mp, account=ADMIN):
            parameters = (
                {solution.POLICY_BUCKET_PARAMETER: BUCKET, solution.POLICY_KEY_PARAMETER: KEY} if with_policy else {}
            )

            class Deployed(Harness):
                def _admin(self) -> None:
                    self.parameters.update(parameters)
                    super()._admin()

            h = Deployed(mp)
            h.install_playbook()
            session, _ = member_with_lambda1(h)
            org = boto3.client("organizations")
            org.create_organization(FeatureSet="ALL")
            root = org.list_roots()["Roots"][0]["Id"]
            unit = org.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]["Id"]
            team = org.create_organizational_unit(ParentId=unit, Name="Team")["OrganizationalUnit"]["Id"]
            organizations.join(MEMBER, ADMIN)
            org.move_account(AccountId=MEMBER, SourceParentId=root, DestinationParentId=team)
            s3 = boto3.client("s3", region_name=REGION)
            s3.create_bucket(Bucket=BUCKET)
            s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
            store.PolicyStore(s3, BUCKET, KEY).apply(POLICY.format(ou=unit, member=MEMBER).encode())
            lam = session.client("lambda")
            arns = []
            for i in range(findings):
                arn = public_function(session, f"bench-{i}")
                if i % 2:
                    lam.tag_resource(Resource=arn, Tags={"Env": "prod"})
                arns.append(arn)
            counting.install(mp)
            for arn in arns:
                finding = lambda1_finding(arn)
                h.import_finding(finding)
                event = imported_event([finding])
                event["detail"]["actionName"] = "None"
                result = h.run(event, timeout=120)
                if result.status != "SUCCEEDED":
                    raise SystemExit(f"execution {result.status}: {result.states()}")
    return counting


def _report(title: str, counting: _Counting) -> None:
    print(f"\n{title}")
    total: Counter[str] = Counter()
    for i, (calls, elapsed, outcome) in enumerate(counting.per_finding):
        total.update(calls)
        shown = ", ".join(f"{k} {v}" for k, v in sorted(calls.items())) or "no call"
        print(f"  finding {i:2d}  {outcome:13s} {1000 * elapsed:7.1f} ms  {shown}")
    times = [e for _, e, _ in counting.per_finding]
    n = len(times)
    per = ", ".join(f"{k} {v / n:.2f}" for k, v in sorted(total.items())) or "none"
    print(f"  {n} findings: calls per finding: {per}")
    if times:
        warm = times[1:] or times
        median = 1000 * statistics.median(warm)
        print(
            f"  decide wall time: first (cold) {1000 * times[0]:.1f} ms; then median {median:.1f} ms, "
            f"max {1000 * max(warm):.1f} ms"
        )
    print(f"  outcomes: {json.dumps(Counter(o for _, _, o in counting.per_finding), sort_keys=True)}")


def main(findings: int = 20) -> int:
    logging.disable(logging.INFO)
    _report(f"With a policy (OU include, tag exclude, one exemption): {findings} findings", _run(findings, True))
    _report(f"Without a policy: {findings} findings", _run(findings, False))
    return 0


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:2])))
