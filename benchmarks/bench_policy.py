"""Cost of the remediation policy per finding (plain script, no pytest; no timed assertion: it reports).

    .venv/bin/python benchmarks/bench_policy.py [FINDINGS [ACCOUNTS]]

Default: 20,000 decisions over 200 accounts in a three-level OU tree on moto's Organizations
(root > 4 business units > 2 environments > 2 teams: 16 leaf OUs, accounts spread over them).
The policy is the worked rollout of docs/policy.md made heavier: global dry-run with an OU
include and tag/ARN/Region excludes, four controls with their own OU scopes, 50 exemptions.

Prints:
* decisions per second and µs per decision (``decide`` alone, OU answers cached, tags from the
  finding), CPU time of this process;
* Organizations ListParents calls per finding with a cold cache (every account new, the OUs
  above it partly shared) and a warm one (every account seen within the TTL), and the wall time
  of a cold resolution on moto (moto's latency, not AWS's);
* the cost of reading a finding's facts with asr.explain (per finding), and of loading the policy.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_CONFIG_FILE=os.devnull,
    AWS_SHARED_CREDENTIALS_FILE=os.devnull,
)

import boto3
from moto import mock_aws

from asr.policy import document as doc
from asr.policy import evaluate as ev
from asr.policy import facts as facts_mod
from asr.policy import orgs

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CONTROLS = ["S3.2", "EC2.19", "CloudTrail.1", "IAM.11", "S3.5", "EC2.13"]
REGIONS = ["us-east-1", "eu-west-1", "ap-east-1"]


def build_org(client, accounts: int) -> tuple[list[str], list[str]]:
    root = client.list_roots()["Roots"][0]["Id"]
    leaves, units = [], []
    for b in range(4):
        unit = client.create_organizational_unit(ParentId=root, Name=f"bu{b}")["OrganizationalUnit"]["Id"]
        units.append(unit)
        for e in range(2):
            env = client.create_organizational_unit(ParentId=unit, Name=f"env{e}")["OrganizationalUnit"]["Id"]
            for t in range(2):
                leaves.append(client.create_organizational_unit(ParentId=env, Name=f"t{t}")["OrganizationalUnit"]["Id"])
    ids = []
    for i in range(accounts):
        account = client.create_account(Email=f"a{i}@example.com", AccountName=f"a{i}")["CreateAccountStatus"][
            "AccountId"
        ]
        client.move_account(AccountId=account, SourceParentId=root, DestinationParentId=leaves[i % len(leaves)])
        ids.append(account)
    return ids, units


def build_policy(units: list[str]) -> doc.Policy:
    exemptions = "".join(
        f'      - {{resource: "arn:aws:s3:::exempt-{i}", reason: r{i}, owner: team{i}, '
        f'expires: "2026-0{1 + i % 9}-15T00:00:00Z"}}\n'
        for i in range(50)
    )
    text = f"""\
version: 1
global:
  mode: dry-run
  scope:
    include: {{ous: [{units[0]}, {units[1]}, {units[2]}]}}
    exclude: {{tags: [asr:ignore], resources: ["arn:aws:iam::*:role/breakglass-*"], regions: [ap-east-1]}}
  exemptions:
{exemptions}controls:
  S3.2: {{mode: auto, scope: {{include: {{ous: [{units[0]}]}}}}}}
  AFSBP:EC2.19: {{mode: auto, scope: {{include: {{ous: [{units[0]}, {units[1]}]}}}}}}
  CloudTrail.1: {{mode: manual}}
  "CIS 1.2.0:1.5": {{enabled: false}}
"""
    start = time.perf_counter()
    policy = doc.loads(text)
    first = time.perf_counter() - start
    start = time.perf_counter()
    doc.loads(text)
    again = time.perf_counter() - start
    print(
        f"policy: {len(text)} bytes, loaded and validated in {1000 * first:.1f} ms the first time in the process "
        f"(playbook data and schema read), {1000 * again:.1f} ms again"
    )
    return policy


def main() -> None:
    findings = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    accounts = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    rng = random.Random(18)
    with mock_aws():
        client = boto3.client("organizations", region_name="us-east-1")
        client.create_organization(FeatureSet="ALL")
        ids, units = build_org(client, accounts)
        policy = build_policy(units)

        # Organizations calls per finding: cold (each account's first finding) and warm.
        resolver = orgs.OuResolver(client)
        start = time.perf_counter()
        for account in ids:
            resolver(account)
        cold_wall = time.perf_counter() - start
        cold_calls = resolver.calls
        for account in ids:
            resolver(account)
        warm_calls = resolver.calls - cold_calls
        print(
            f"ListParents per finding, cold cache: {cold_calls / len(ids):.2f} ({cold_calls} calls for {len(ids)} new "
            f"accounts, 4 levels, OUs above shared; {1000 * cold_wall / len(ids):.2f} ms each on moto); "
            f"warm cache: {warm_calls / len(ids):.2f}"
        )
        lone = orgs.OuResolver(client)
        lone(ids[0])
        print(f"ListParents for one account alone (nothing cached): {lone.calls}")

        # Decisions per second, warm cache, tags from the finding.
        sample = [
            ev.FindingFacts(
                account=rng.choice(ids),
                region=rng.choice(REGIONS),
                resource=f"arn:aws:s3:::{'exempt' if rng.random() < 0.1 else 'bucket'}-{rng.randrange(60)}",
                control=rng.choice(CONTROLS),
                tags={"Env": rng.choice(["prod", "dev"])} if rng.random() < 0.9 else {"asr:ignore": ""},
            )
            for _ in range(findings)
        ]
        outcomes: dict[str, int] = {}
        cpu, wall = time.process_time(), time.perf_counter()
        for facts in sample:
            decision = ev.decide(policy, facts, now=NOW, ou_resolver=resolver, initiator=ev.AUTO)
            outcomes[decision.outcome] = outcomes.get(decision.outcome, 0) + 1
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"decide: {findings} decisions in {wall:.3f} s wall ({findings / wall:,.0f}/s, "
            f"{1e6 * wall / findings:.1f} µs each), {cpu:.3f} s CPU; outcomes {dict(sorted(outcomes.items()))}"
        )
        print(f"Organizations calls during those decisions: {resolver.calls - cold_calls - warm_calls}")

    from tests.policy.conftest import finding

    raws = [finding(c, "arn:aws:s3:::bucket-1") for c in ("S3.2", "S3.5", "EC2.19")] * 20
    start = time.perf_counter()
    for raw in raws:
        facts_mod.from_finding(raw)
    per = (time.perf_counter() - start) / len(raws)
    print(f"facts of a finding through asr.explain: {1000 * per:.2f} ms each ({len(raws)} findings)")
    print(f"load average: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")


if __name__ == "__main__":
    main()
