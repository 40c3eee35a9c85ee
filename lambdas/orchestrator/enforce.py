"""The remediation policy, enforced by resolve before any automation starts (docs/policy.md).

resolve calls ``decide`` once it knows the control, account, Region, resource, runbook and role,
before it answers READY. The policy is the compiled object ``asr policy apply`` writes next to the
YAML (``<key>.json``, asr/policy/store.py), read with one s3:GetObject and parsed with the
standard library (``Policy.from_json``: the Lambda zip has no PyYAML and no jsonschema), then kept
for ``solution.POLICY_CACHE_SECONDS`` by the warm container. With both locations blank there is no
policy: no call, no decision, ASR as before. A policy that cannot be read or parsed, or a rule the
orchestrator cannot evaluate (an OU scope, a tag rule on a finding without Resources[0].Tags), is a
``PolicyUnavailable`` naming the object and why: resolve makes it a LAMBDA_ERROR, never an allow.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from asr import limits, solution
from asr.policy import document as doc
from asr.policy import evaluate
from lambdas.orchestrator import aws
from lambdas.orchestrator.finding import Finding

#: Largest compiled policy read: the YAML is at most doc.MAX_DOCUMENT_BYTES; its normalized JSON
#: (every default written out) and the control-id map stay well within four times that.
MAX_COMPILED_BYTES = 4 * doc.MAX_DOCUMENT_BYTES
COMPILED_FORMAT = 1


class PolicyUnavailable(RuntimeError):
    """The policy cannot decide; the message names the object and why (resolve: LAMBDA_ERROR)."""


@dataclass(frozen=True)
class Compiled:
    policy: doc.Policy
    aliases: dict[str, str]  # "<short name>:<version>:<control id>" -> consolidated control id
    where: str  # s3://bucket/key.json

    @property
    def version(self) -> str:
        """What the history records as the policy version: the YAML's S3 object version id, or its
        SHA-256 when the bucket gave none."""
        return self.policy.revision or self.policy.sha256


_cache: tuple[float, tuple[str, str], Compiled] | None = None


def clear_cache() -> None:
    global _cache
    _cache = None


def location() -> tuple[str, str] | None:
    """(bucket, key) of the policy YAML from the environment; None when both are blank."""
    bucket = os.environ.get(solution.POLICY_BUCKET_ENV, "").strip()
    key = os.environ.get(solution.POLICY_KEY_ENV, "").strip()
    if not bucket and not key:
        return None
    if not bucket or not key:
        raise PolicyUnavailable(
            f"remediation policy location is incomplete: {solution.POLICY_BUCKET_PARAMETER} {bucket!r} and "
            f"{solution.POLICY_KEY_PARAMETER} {key!r}; set both (or neither for no policy)"
        )
    return bucket, key


def load(clock: Callable[[], float] = time.monotonic) -> Compiled | None:
    """The policy in force (cached per container), None when no policy is configured."""
    global _cache
    where = location()
    if where is None:
        return None
    now = clock()
    if _cache is not None and _cache[1] == where and now - _cache[0] < solution.POLICY_CACHE_SECONDS:
        return _cache[2]
    compiled = read(*where)
    _cache = (now, where, compiled)
    return compiled


def read(bucket: str, key: str) -> Compiled:
    compiled_key = f"{key}{solution.POLICY_COMPILED_SUFFIX}"
    name = f"s3://{bucket}/{compiled_key}"
    fix = f"run 'asr policy apply --bucket {bucket} --key {key} POLICY.yaml' to write it"
    try:
        response = aws.client("s3").get_object(Bucket=bucket, Key=compiled_key)
        data = response["Body"].read(MAX_COMPILED_BYTES + 1)
    except ClientError as err:
        code = aws.error_code(err)
        text = err.response.get("Error", {}).get("Message", "")
        raise PolicyUnavailable(
            f"remediation policy {name} cannot be read ({code}: {limits.truncate_chars(text, 300)}); {fix}, and "
            f"check that {solution.ORCHESTRATOR_ADMIN_ROLE} may s3:GetObject it"
        ) from None
    if len(data) > MAX_COMPILED_BYTES:
        raise PolicyUnavailable(f"remediation policy {name} is larger than {MAX_COMPILED_BYTES} bytes")
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise PolicyUnavailable(f"remediation policy {name} is not JSON ({err}); {fix}") from None
    if not isinstance(body, dict) or body.get("format") != COMPILED_FORMAT:
        got = body.get("format") if isinstance(body, dict) else type(body).__name__
        raise PolicyUnavailable(
            f"remediation policy {name}: field format is {limits.shown(got)}, not {COMPILED_FORMAT}; {fix}"
        )
    sha256, aliases, revision = body.get("sha256"), body.get("aliases"), body.get("revision")
    keys = body.get("keys", {})
    if not isinstance(sha256, str) or not sha256:
        raise PolicyUnavailable(f"remediation policy {name}: field sha256 is {limits.shown(sha256)}, not a digest")
    if not isinstance(aliases, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()):
        raise PolicyUnavailable(f"remediation policy {name}: field aliases is not a map of control ids; {fix}")
    if not isinstance(keys, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in keys.items()):
        raise PolicyUnavailable(f"remediation policy {name}: field keys is not a map of control keys; {fix}")
    if revision is not None and not isinstance(revision, str):
        raise PolicyUnavailable(f"remediation policy {name}: field revision is {limits.shown(revision)}")
    try:
        policy = doc.Policy.from_json(body.get("policy"), sha256=sha256, source=name, revision=revision, keys=keys)
    except doc.PolicyError as err:
        raise PolicyUnavailable(f"remediation policy {name} is not a usable policy: {err}") from None
    return Compiled(policy, aliases, name)


def resource_tags(finding: Finding) -> dict[str, str] | None:
    """Resources[0].Tags (a map of strings in ASFF:
    https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Resource.html), None when absent."""
    resources = finding.raw.get("Resources")
    first = resources[0] if isinstance(resources, list) and resources and isinstance(resources[0], dict) else {}
    tags = first.get("Tags")
    if tags is None:
        return None
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        raise PolicyUnavailable(f"finding field Resources.0.Tags must be a map of strings (got {limits.shown(tags)})")
    return dict(tags)


def initiator(event_type: Any) -> str:
    return evaluate.MANUAL if event_type == solution.EVENT_CUSTOM_ACTION else evaluate.AUTO


def facts(compiled: Compiled, finding: Finding, target: dict[str, Any]) -> evaluate.FindingFacts:
    short, version, control_id = (target.get(k) or "" for k in ("StandardShortName", "StandardVersion", "ControlId"))
    control = compiled.aliases.get(f"{short}:{version}:{control_id}") if short else None
    return evaluate.FindingFacts(
        account=finding.account,
        region=finding.resource_region,
        resource=finding.resource_id,
        control=control,
        standard_control=f"{short}:{control_id}" if short else None,
        finding_id=finding.id,
        resource_type=finding.resource_type,
        tags=resource_tags(finding),
    )


def decide(
    finding: Finding, target: dict[str, Any], event_type: Any, *, now: dt.datetime | None = None
) -> tuple[Compiled, evaluate.Decision] | None:
    """The policy's decision for a resolved finding, None without a policy."""
    compiled = load()
    if compiled is None:
        return None
    found = facts(compiled, finding, target)
    try:
        decision = evaluate.decide(
            compiled.policy, found, now=now or dt.datetime.now(dt.UTC), initiator=initiator(event_type)
        )
    except evaluate.DecisionInputError as err:
        raise PolicyUnavailable(
            f"remediation policy {compiled.where} cannot decide for {found.resource}: {err}. The orchestrator "
            "does not resolve OUs yet and reads tags from the finding only (docs/policy.md, 'Not yet enforced'); "
            "nothing was remediated"
        ) from None
    return compiled, decision


def message(compiled: Compiled, decision: evaluate.Decision, target: dict[str, Any]) -> str:
    """The notification, note and history text of a decision that stops the finding."""
    head = (
        f"Remediation policy {compiled.where} (revision {compiled.version}), rule {decision.rule}: {decision.reason}."
    )
    parts = [head]
    if decision.outcome == evaluate.DRY_RUN:
        parameters = json.dumps(target.get("Parameters", {}), sort_keys=True)
        parts.append(
            f"Would run runbook {target.get('Runbook')} in account {target.get('Account')} Region "
            f"{target.get('Region')} as role {target.get('RoleArn')} with parameters {parameters} (and the finding); "
            "no automation was started."
        )
    elif decision.exemption is not None and decision.outcome == evaluate.EXEMPT:
        e = decision.exemption
        parts.append(f"Exemption {e.path}: {e.target}; reason: {e.reason}; owner: {e.owner}; expires {e.expires}.")
    if decision.expired_exemptions:
        listed = "; ".join(f"{e.path} ({e.target}, expired {e.expires})" for e in decision.expired_exemptions)
        parts.append(f"Expired exemptions, no longer applied: {listed}.")
    return " ".join(parts)
