"""Security Hub control evaluators: does a resource pass its control, as AWS judges it?

One evaluator per Security Hub control that a playbook remediates, keyed by the
consolidated control id (``S3.5``, ``CloudWatch.4`` ...). Each is written from the
control's documentation (the Security Hub control reference and the AWS Config rule
behind it; every evaluator names its page) and reads the resource through the AWS
API only. Evaluators never import remediation code: they are the independent judge
of what a remediation did.

    from asr.controls import evaluate, Resource
    verdict = evaluate("S3.5", session, Resource.of_bucket("my-bucket", account, region))
    verdict.status   # Status.PASSED / FAILED / NOT_APPLICABLE
    verdict.reason   # names the field and value that decided

Per-standard controls (CIS 1.2.0 2.6, PCI.S3.1 ...) and remapped controls reuse the
consolidated control's evaluator (see ``asr.controls.mapping``).
"""

from __future__ import annotations

from asr.controls.base import (
    REGISTRY,
    Context,
    ControlSpec,
    EvaluationError,
    Resource,
    Status,
    Verdict,
    control,
    evaluate,
    failed,
    load_all,
    not_applicable,
    passed,
)

__all__ = [
    "REGISTRY",
    "Context",
    "ControlSpec",
    "EvaluationError",
    "Resource",
    "Status",
    "Verdict",
    "control",
    "evaluate",
    "failed",
    "load_all",
    "not_applicable",
    "passed",
]
