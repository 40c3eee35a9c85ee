"""The moto extensions of the orchestrator's end-to-end runs: the product's
(``asr.simulator.orchestration.patches``), under the names the tests import."""

from __future__ import annotations

from asr.simulator.orchestration.patches import (
    AutomationRouter,
    Invocation,
    LambdaDispatcher,
    Patches,
    batch_update_findings,
    install_all,
    send_task_failure,
    strict_member_role,
)

__all__ = [
    "AutomationRouter",
    "Invocation",
    "LambdaDispatcher",
    "Patches",
    "batch_update_findings",
    "install_all",
    "send_task_failure",
    "strict_member_role",
]
