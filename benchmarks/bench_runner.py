"""Per-step overhead of the local SSM Automation runner (plain script, no pytest).

    .venv/bin/python benchmarks/bench_runner.py [N]

Prints steps/second for a document of N trivial aws:executeScript steps and for a
document of N aws:executeAwsApi steps (ssm:GetParameter) against moto.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from moto import mock_aws

from asr.simulator import AutomationRunner, DocumentRegistry, FakeClock
from asr.simulator.aws import new_session

SCRIPT = "def handler(events, context):\n    return {'n': events['n'] + 1}\n"


def script_document(steps: int) -> dict[str, Any]:
    return {
        "schemaVersion": "0.3",
        "mainSteps": [
            {
                "name": f"S{i}",
                "action": "aws:executeScript",
                "inputs": {
                    "Runtime": "python3.11",
                    "Handler": "handler",
                    "Script": SCRIPT,
                    "InputPayload": {"n": i if i == 0 else f"{{{{ S{i - 1}.N }}}}"},
                },
                "outputs": [{"Name": "N", "Selector": "$.Payload.n", "Type": "Integer"}],
            }
            for i in range(steps)
        ],
    }


def api_document(steps: int) -> dict[str, Any]:
    return {
        "schemaVersion": "0.3",
        "mainSteps": [
            {
                "name": f"A{i}",
                "action": "aws:executeAwsApi",
                "inputs": {"Service": "ssm", "Api": "GetParameter", "Name": "/bench/value"},
                "outputs": [{"Name": "Value", "Selector": "$.Parameter.Value"}],
            }
            for i in range(steps)
        ],
    }


def measure(runner: AutomationRunner, name: str, steps: int) -> float:
    runner.run(name, {})  # warm-up: parsing, clients, service models
    started = time.perf_counter()
    execution = runner.run(name, {})
    elapsed = time.perf_counter() - started
    if execution.status != "Success":
        raise SystemExit(f"{name} failed: {execution.failure_message}")
    return steps / elapsed


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    os.environ.pop("AWS_PROFILE", None)
    registry = DocumentRegistry()
    registry.add("BenchScript", script_document(steps))
    registry.add("BenchApi", api_document(steps))
    with mock_aws():
        new_session(region_name="us-east-1").client("ssm").put_parameter(Name="/bench/value", Value="v", Type="String")
        runner = AutomationRunner(registry, clock=FakeClock())
        script_rate = measure(runner, "BenchScript", steps)
        api_rate = measure(runner, "BenchApi", steps)
    print(f"aws:executeScript (trivial), {steps} steps: {script_rate:,.0f} steps/s ({1000 / script_rate:.2f} ms/step)")
    print(
        f"aws:executeAwsApi (moto ssm:GetParameter), {steps} steps: {api_rate:,.0f} steps/s "
        f"({1000 / api_rate:.2f} ms/step)"
    )


if __name__ == "__main__":
    main()
