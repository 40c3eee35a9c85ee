"""Monthly cost of the guide's three pricing examples, from our templates and a measured orchestrator run.

    .venv/bin/python benchmarks/cost.py [--templates deployment/global-s3-assets] [--markdown]

What it does:

1. Counts, in the synthesized templates (built by ``make`` into deployment/global-s3-assets, or built here
   into a temporary directory), the KMS keys each deployment creates per RemediationKeyMode: the member-side
   templates (member, everything it nests, member-roles) evaluated with the mode's parameter values, the
   admin template, and the organization key stack (one per Region) for mode Existing.
2. Runs one remediation through the orchestrator on moto (tests/orchestrator/harness.py: the synthesized
   state machine, our Lambda handlers in-process, the control runbook and the real remediation runbook in
   the local SSM runner) and counts, per remediation: state transitions (states entered, as Step Functions
   bills), Lambda requests, SQS / DynamoDB / SNS / Security Hub requests made by our code, SSM Automation
   steps (control runbook and remediation, every executed step) and log bytes (state machine history
   payloads, logged at level ALL, plus what our Lambdas log).
3. Prices each line with the guide's unit prices (the guide's "Sample cost table") side by side with the
   guide's published figure for that line.

Derivations that cannot be measured offline are stated in DERIVED (KMS requests, Lambda duration,
executeScript seconds, CloudWatch metrics/dashboard/alarms).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asr import solution  # noqa: E402

# --- the guide (seeds/004: "Cost" / "Sample cost table" / "Pricing examples") -------------------------
PRICE = {
    "ssm_step": 0.002,  # per basic step beyond the free tier
    "ssm_second": 0.00003,  # per aws:executeScript second
    "logs_gb": 0.50,  # ingestion
    "lambda_request": 0.20 / 1_000_000,
    "lambda_gb_s": 0.0000166667,
    "transition": 0.025 / 1000,
    "kms_key": 1.00,
    "kms_request": 0.03 / 10_000,  # AWS KMS pricing, beyond 20,000 free requests a month
    "dynamodb_request": 2.00 / 1_000_000,
    "sqs_request": 0.40 / 1_000_000,
    "sns_request": 0.50 / 1_000_000,
    "metric": 0.30,
    "metric_api": 0.01 / 1000,
    "dashboard": 3.00,
    "alarm": 0.10,
}


@dataclass(frozen=True)
class Example:
    name: str
    accounts: int
    regions: int
    remediations: int
    #: the guide's published figure per line (USD per month)
    guide: dict[str, float]

    @property
    def member_stacks(self) -> int:
        return self.accounts * self.regions


def _guide(ssm: float, lam: float, dur: float, sfn: float, kms: float, metrics: float, alarms: float) -> dict:
    return {
        "SSM Automation": ssm,
        "CloudWatch Logs": 0.0,
        "Lambda requests": lam,
        "Lambda duration": dur,
        "Step Functions": sfn,
        "KMS keys": kms,
        "KMS requests": 0.0,
        "DynamoDB": 2.00,
        "SQS": 0.40,
        "SNS": 0.50,
        "CloudWatch metrics": metrics,
        "CloudWatch dashboard": 3.00,
        "CloudWatch alarms": alarms,
    }


EXAMPLES = [
    Example("Example 1", 10, 1, 300, _guide(2.49, 0.20, 0.0, 0.15, 10.00, 2.11, 0.30)),
    Example("Example 2", 100, 1, 3_000, _guide(24.90, 0.20, 0.09, 1.28, 100.00, 2.19, 0.30)),
    Example("Example 3", 1_000, 10, 30_000, _guide(249.00, 0.20, 0.94, 12.75, 10_000.00, 2.70, 0.20)),
]
GUIDE_TOTAL = {"Example 1": 21.17, "Example 2": 134.86, "Example 3": 10_271.70}
MODES = (solution.KEY_MODE_NONE, solution.KEY_MODE_EXISTING, solution.KEY_MODE_PER_STACK)

DERIVED = {
    "executeScript seconds": "the guide's 10 s per remediation (wall time of real AWS cannot be measured here)",
    "Lambda duration": "the guide's 1.875 GB-s per remediation for its 6 requests, scaled to our measured "
    "requests at the same memory",
    "KMS requests": "admin key only (member resources are not touched per remediation): per remediation 1 "
    "GenerateDataKey for each SNS publish to the encrypted topic (no caching assumed); SQS with a 24 h data key "
    "reuse period: at most 1 GenerateDataKey + 1 Decrypt per queue and principal a day (2 queues x 2 x 30 = "
    "120 a month, not per remediation); the first 20,000 a month are free",
    "CloudWatch metrics/dashboard/alarms": "the guide's counts (same metrics, dashboard and alarms by default)",
}


# --- 1. templates ----------------------------------------------------------------------------------

MEMBER_SIDE = re.compile(
    r"^(automated-security-response-(member|member-roles|member-cloudtrail|remediation-runbooks\d*)\.template"
    r"|playbooks/\w+MemberStack\d*\.template)$"
)


def load_templates(directory: Path | None) -> dict[str, dict]:
    if directory is None or not (directory / solution.ORG_KEY_TEMPLATE).exists():  # absent: a stale build
        from asr.build import build
        from asr.cdk_common import Distribution

        out = Path(tempfile.mkdtemp(prefix="asr-cost-"))
        return build(Distribution(), out).templates
    return {str(p.relative_to(directory)): json.loads(p.read_text()) for p in directory.rglob("*.template")}


def _holds(template: dict, condition: str, params: dict[str, str]) -> bool:
    values = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()} | params

    def ev(node: Any) -> Any:
        if isinstance(node, dict):
            ((fn, arg),) = node.items()
            if fn == "Fn::Equals":
                return ev(arg[0]) == ev(arg[1])
            if fn == "Fn::Or":
                return any(ev(a) for a in arg)
            if fn == "Fn::And":
                return all(ev(a) for a in arg)
            if fn == "Fn::Not":
                return not ev(arg[0])
            if fn == "Condition":
                return ev(template["Conditions"][arg])
            if fn == "Ref":
                return values.get(arg)
            raise ValueError(f"cannot evaluate {fn}")
        return node

    return bool(ev(template["Conditions"][condition]))


def count(template: dict, rtype: str, params: dict[str, str] | None = None) -> int:
    return sum(
        1
        for r in template.get("Resources", {}).values()
        if r["Type"] == rtype and ("Condition" not in r or _holds(template, r["Condition"], params or {}))
    )


def keys_per_mode(templates: dict[str, dict]) -> dict[str, dict[str, int]]:
    """mode -> {"member": keys per member stack (account-Region), "admin": keys of the admin stack,
    "org": keys per Region of the organization key stack}."""
    admin = count(templates[solution.TEMPLATE_FILES[solution.ADMIN_STACK]], "AWS::KMS::Key")
    org = count(templates[solution.ORG_KEY_TEMPLATE], "AWS::KMS::Key")
    out = {}
    for mode in MODES:
        params = {solution.KEY_MODE_PARAMETER: mode}
        member = sum(count(t, "AWS::KMS::Key", params) for p, t in templates.items() if MEMBER_SIDE.match(p))
        out[mode] = {"member": member, "admin": admin, "org": org if mode == solution.KEY_MODE_EXISTING else 0}
    return out


# --- 2. one measured remediation --------------------------------------------------------------------


def measure() -> dict[str, float]:
    """Usage of one successful remediation (Lambda.1 from the custom action) through the orchestrator."""
    import botocore.client
    import pytest
    from moto.core.config import default_user_config

    from asr.simulator.findings import custom_action_event
    from lambdas.orchestrator import notifications
    from tests.conftest import multi_account_moto
    from tests.orchestrator.harness import ADMIN, Harness
    from tests.orchestrator.scenarios import lambda1_finding, member_with_lambda1

    calls: Counter[tuple[str, str]] = Counter()
    original = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation: str, params: dict) -> Any:
        calls[(self.meta.service_model.service_name, operation)] += 1
        return original(self, operation, params)

    log = io.StringIO()
    handler = logging.StreamHandler(log)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(notifications, "_metrics_enabled", None)
        mp.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
        with multi_account_moto(mp, account=ADMIN), contextlib.redirect_stdout(io.StringIO()):
            harness = Harness(mp)
            harness.install_playbook()
            _session, function_arn = member_with_lambda1(harness)
            finding = lambda1_finding(function_arn)
            harness.import_finding(finding)
            mp.setattr(botocore.client.BaseClient, "_make_api_call", counting)
            logging.getLogger().addHandler(handler)
            try:
                with contextlib.redirect_stdout(log):  # our Lambdas log JSON lines to stdout
                    result = harness.run(custom_action_event([finding]))
            finally:
                logging.getLogger().removeHandler(handler)
            mp.setattr(botocore.client.BaseClient, "_make_api_call", original)
            if result.status != "SUCCEEDED":
                raise SystemExit(f"the measured run did not succeed: {result.status}")
            steps = 0
            pending = list(harness.router.runner.executions)
            seen: set[str] = set()
            while pending:
                execution = pending.pop()
                if execution.automation_execution_id in seen:
                    continue
                seen.add(execution.automation_execution_id)
                steps += len(execution.step_executions)
                for step in execution.step_executions:
                    pending.extend(step.child_executions)
            history_bytes = sum(size for _, _, size in result.payloads())
            lambda_requests = harness.dispatcher.count()
            transitions = result.transitions
    ours = {k: v for k, v in calls.items() if k[0] != "stepfunctions"}  # the harness's own polling
    by_service = Counter()
    for (service, _op), n in ours.items():
        by_service[service] += n
    # each Lambda invocation also logs START/END/REPORT lines (~350 bytes)
    log_bytes = history_bytes + len(log.getvalue().encode()) + 350 * lambda_requests
    return {
        "transitions": transitions,
        "lambda_requests": lambda_requests,
        "sqs": by_service["sqs"],
        "dynamodb": by_service["dynamodb"],
        "sns": by_service["sns"],
        "securityhub": by_service["securityhub"],
        "ssm_steps": steps,
        "log_bytes": log_bytes,
    }


# --- 3. prices ---------------------------------------------------------------------------------------


def lines(example: Example, usage: dict[str, float], keys: dict[str, int], *, free_tiers: bool = False) -> dict:
    n = example.remediations
    kms_keys = keys["member"] * example.member_stacks + keys["admin"] + keys["org"] * example.regions
    sns_publishes = usage["sns"]
    kms_requests = max(0.0, n * sns_publishes + 120 - (20_000 if free_tiers else 0))
    lambda_requests = n * usage["lambda_requests"]
    steps = n * usage["ssm_steps"]
    if free_tiers:
        # Steps are billed in the account that starts the automation: each member account (30 a month per
        # account-Region) stays far below its 100,000 free steps.
        steps = max(0.0, steps / example.accounts - 100_000) * example.accounts
        lambda_requests = max(0.0, lambda_requests - 1_000_000)
    return {
        "SSM Automation": steps * PRICE["ssm_step"] + 10 * n * PRICE["ssm_second"],
        "CloudWatch Logs": n * usage["log_bytes"] / 1e9 * PRICE["logs_gb"],
        "Lambda requests": lambda_requests * PRICE["lambda_request"],
        "Lambda duration": 1.875 * usage["lambda_requests"] / 6 * n * PRICE["lambda_gb_s"],
        "Step Functions": n * usage["transitions"] * PRICE["transition"],
        "KMS keys": kms_keys * PRICE["kms_key"],
        "KMS requests": kms_requests * PRICE["kms_request"],
        "DynamoDB": n * usage["dynamodb"] * PRICE["dynamodb_request"],
        "SQS": n * usage["sqs"] * PRICE["sqs_request"],
        "SNS": n * usage["sns"] * PRICE["sns_request"],
        "CloudWatch metrics": example.guide["CloudWatch metrics"],
        "CloudWatch dashboard": PRICE["dashboard"],
        "CloudWatch alarms": example.guide["CloudWatch alarms"],
    }


def report(templates: dict[str, dict], usage: dict[str, float]) -> str:
    keys = keys_per_mode(templates)
    out = ["## Cost of the guide's pricing examples, per RemediationKeyMode (benchmarks/cost.py)", ""]
    out.append(
        "Measured per remediation (one Lambda.1 remediation through the synthesized orchestrator on moto): "
        + ", ".join(f"{k} {v:g}" for k, v in usage.items())
        + "."
    )
    out.append("")
    out.append(
        "KMS keys counted in the synthesized templates: "
        + "; ".join(
            f"{m}: {k['member']} per member stack, {k['admin']} admin, {k['org']} organization key per Region"
            for m, k in keys.items()
        )
        + "."
    )
    out.append("")
    out.append("Derived, not measured: " + "; ".join(f"{k}: {v}" for k, v in DERIVED.items()) + ".")
    out.append("")
    summary = []
    for example in EXAMPLES:
        out.append(
            f"### {example.name}: {example.accounts:,} accounts x {example.regions} Region(s), "
            f"{example.remediations:,} remediations a month"
        )
        out.append("")
        out.append("| line | guide | " + " | ".join(MODES) + " |")
        out.append("|---|---:|" + "---:|" * len(MODES))
        per_mode = {m: lines(example, usage, keys[m]) for m in MODES}
        for line in example.guide:
            out.append(
                f"| {line} | {example.guide[line]:,.2f} | "
                + " | ".join(f"{per_mode[m][line]:,.2f}" for m in MODES)
                + " |"
            )
        totals = {m: sum(per_mode[m].values()) for m in MODES}
        free = {m: sum(lines(example, usage, keys[m], free_tiers=True).values()) for m in MODES}
        guide_total = GUIDE_TOTAL[example.name]
        out.append(
            f"| **total** | **{guide_total:,.2f}** | " + " | ".join(f"**{totals[m]:,.2f}**" for m in MODES) + " |"
        )
        out.append(
            "| ratio to the guide | 1.00 | " + " | ".join(f"{totals[m] / guide_total:.4f}" for m in MODES) + " |"
        )
        out.append(
            "| total with free tiers (SSM steps per member account, Lambda, KMS requests) | | "
            + " | ".join(f"{free[m]:,.2f}" for m in MODES)
            + " |"
        )
        out.append("")
        summary.append((example.name, guide_total, totals))
    name, guide_total, totals = summary[-1]
    out.append(
        f"Large example ({name}): guide {guide_total:,.2f} USD a month; ours "
        + ", ".join(f"{m} {totals[m]:,.2f} ({totals[m] / guide_total:.3f}x)" for m in MODES)
        + "."
    )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", type=Path, default=ROOT / "deployment" / "global-s3-assets")
    parser.add_argument("--json", action="store_true", help="print the measured usage and key counts as JSON")
    args = parser.parse_args(argv)
    templates = load_templates(args.templates)
    usage = measure()
    if args.json:
        print(json.dumps({"usage": usage, "keys": keys_per_mode(templates)}, indent=2))
        return 0
    print(report(templates, usage))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
