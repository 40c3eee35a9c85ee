"""The remediation policy, enforced by resolve before any automation starts (docs/policy.md).

resolve calls ``decide`` once it knows the control, account, Region, resource, runbook and role,
before it answers READY. The policy is the compiled object ``asr policy apply`` writes next to the
YAML (``<key>.json``, asr/policy/store.py), read with one s3:GetObject and parsed with the
standard library (``Policy.from_json``: the Lambda zip has no PyYAML and no jsonschema), then kept
for ``solution.POLICY_CACHE_SECONDS`` by the warm container. With both locations blank there is no
policy: no call, no decision, ASR as before.

What a rule needs is read only when a rule that could decide needs it:

* the account's OUs (an ``ous`` scope): Organizations ListParents from the admin account, walked up
  to the root by one ``asr.policy.orgs.OuResolver`` per warm container (each answer cached for
  ``orgs.DEFAULT_TTL_SECONDS``, shared by the accounts of an OU);
* the resource's tags (a ``tags`` scope or exemption): the tags it has now, not those the finding
  reported, with the Resource Groups Tagging API GetResources(ResourceARNList=[arn]) as
  SO0111-ASR-Orchestrator-Member in the resource's account and Region. A resource id that is not an
  ARN cannot be looked up: the finding's Resources[0].Tags decide then.

A policy that cannot be read or parsed, a lookup that fails (Organizations refused or not in use,
GetResources denied or throttled), or a rule the orchestrator cannot evaluate is a
``PolicyUnavailable`` naming the object, the rule or resource and why: resolve makes it a
LAMBDA_ERROR, never an allow.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from asr import limits, solution
from asr.policy import document as doc
from asr.policy import evaluate, orgs
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
#: One per warm container: its TTL cache of ListParents answers outlives a finding (docs/policy.md).
_ou_resolver: orgs.OuResolver | None = None


def clear_cache() -> None:
    global _cache, _ou_resolver
    _cache = None
    _ou_resolver = None


def ou_resolver() -> orgs.OuResolver:
    """The container's OU resolver, over an Organizations client of the admin account."""
    global _ou_resolver
    if _ou_resolver is None:
        _ou_resolver = orgs.OuResolver(aws.client("organizations"))
    return _ou_resolver


class _LookupFailed(evaluate.DecisionInputError):
    """An OU or tag lookup a rule needs failed; the message says which, why and what to do.

    A DecisionInputError, so that an expired tag exemption (which decides nothing) only skips it,
    as evaluate does for a lookup nobody can answer; any rule that decides re-raises it."""


def _ou_rule(policy: doc.Policy, control: str | None) -> str:
    """The path of the rule that asked for the OUs: evaluate resolves them once, at the first OU list
    it reaches (scopes in order, each scope's exclude before its include)."""
    for scope in evaluate.effective(policy, control).scopes:
        if scope.exclude is not None and scope.exclude.ous:
            return doc.child(doc.child(scope.exclude.path, "ous"), 0)
        if scope.include is not None and scope.include.ous:
            return doc.child(scope.include.path, "ous")
    return "an ous scope"


def _ous(compiled: Compiled, control: str | None) -> evaluate.OuResolver:
    def resolve(account: str) -> tuple[str, ...]:
        try:
            return ou_resolver()(account)
        except orgs.OuResolutionError as err:
            why = str(err)
        except BotoCoreError as err:  # no answer at all (endpoint, credentials): never a guess
            why = f"cannot find the OUs of account {account}: Organizations ListParents failed: {err}."
        raise _LookupFailed(
            f"{_ou_rule(compiled.policy, control)} names OUs, and {why} The caller: role "
            f"{solution.ORCHESTRATOR_ADMIN_ROLE} in the admin account"
        )

    return resolve


#: Bound of the GetResources pages read for one ARN (one page answers it; a token is followed anyway).
MAX_TAG_PAGES = 5


def _arn_parts(resource: str) -> list[str] | None:
    """arn:partition:service:region:account:resource, split; None when ``resource`` is no ARN."""
    parts = resource.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[1] or not parts[2] or not parts[5]:
        return None
    return parts


class _LiveTags:
    """The resource's tags now: GetResources(ResourceARNList=[arn]) in its account and Region, as
    the member orchestrator role. Called by evaluate only when a rule that applies needs tags; the
    answer (or the failure) is kept for the decision.

    GetResources "returns all the tagged or previously tagged resources that are located in the
    specified Amazon Web Services Region for the account": a resource never tagged is absent from
    the answer, and has no tags; one whose tags were all removed comes back with an empty list.
    https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html
    """

    def __init__(self, finding: Finding, arn: str, region: str, reported: Mapping[str, str] | None) -> None:
        self.finding, self.arn, self.region, self.reported = finding, arn, region, reported
        self._answer: dict[str, str] | _LookupFailed | None = None
        self.fallback = False  # the Tagging API did not list the resource: the finding's tags were used

    def __call__(self) -> dict[str, str]:
        if self._answer is None:
            try:
                self._answer = self._lookup()
            except _LookupFailed as err:
                self._answer = err
        if isinstance(self._answer, _LookupFailed):
            raise self._answer
        return dict(self._answer)

    def _failed(self, why: str, fix: str = "the member-roles stack grants tag:GetResources") -> _LookupFailed:
        role = aws.role_arn(self.finding.partition, self.finding.account, solution.ORCHESTRATOR_MEMBER_ROLE)
        return _LookupFailed(
            f"the tags of {self.arn} cannot be read: Resource Groups Tagging API GetResources in "
            f"{self.region} as {role} {why}; the policy decides on the resource's current tags, so nothing runs "
            f"until the lookup works ({fix})"
        )

    def _lookup(self) -> dict[str, str]:
        try:
            session = aws.member_session(self.finding.partition, self.finding.account, self.region)
            client = session.client("resourcegroupstaggingapi", region_name=self.region, config=aws.CONFIG)
            token = ""
            for _ in range(MAX_TAG_PAGES):
                kwargs = {"ResourceARNList": [self.arn]} | ({"PaginationToken": token} if token else {})
                response = client.get_resources(**kwargs)
                for mapping in response.get("ResourceTagMappingList") or []:
                    if isinstance(mapping, dict) and mapping.get("ResourceARN") == self.arn:
                        return self._tags(mapping.get("Tags"))
                token = response.get("PaginationToken") or ""
                if not token:
                    break
        except aws.AssumeRoleError as err:
            raise self._failed(f"failed: {err}") from None
        except ClientError as err:
            text = limits.truncate_chars(err.response.get("Error", {}).get("Message", ""), 300)
            raise self._failed(f"failed with {aws.error_code(err)}: {text}") from None
        except BotoCoreError as err:
            raise self._failed(f"failed: {type(err).__name__}: {limits.truncate_chars(err, 300)}") from None
        if self.reported:
            # Absent: never tagged, or a type the Tagging API does not list. The finding saw tags, so
            # it is not the first: taking {} would drop tags a rule may need (an exclusion). The
            # finding's tags are the best account of them there is (decision tags_from "finding").
            self.fallback = True
            return dict(self.reported)
        return {}

    def _tags(self, raw: Any) -> dict[str, str]:
        tags: dict[str, str] = {}
        for tag in raw or []:
            key, value = (tag.get("Key"), tag.get("Value")) if isinstance(tag, dict) else (None, None)
            if not isinstance(key, str) or not isinstance(value, str):
                raise self._failed(f"answered a tag that is not a Key/Value pair of strings: {limits.shown(tag)}")
            tags[key] = value
        return tags


def _tag_source(finding: Finding, found: evaluate.FindingFacts) -> tuple[evaluate.FindingFacts, Callable[[], Any]]:
    """(facts, tags callable) for evaluate: a live lookup for an ARN (``FindingFacts.tags`` None, so
    evaluate records tags_from "lookup"); the finding's Resources[0].Tags for any other id."""
    parts = _arn_parts(found.resource)
    if parts is None:

        def not_an_arn() -> dict[str, str]:
            raise _LookupFailed(
                f"the resource id {limits.shown(found.resource, 300)} is not an ARN, so its tags cannot be looked "
                "up (GetResources takes ARNs), and the finding has no Resources[0].Tags"
            )

        return found, not_an_arn
    reported = found.tags
    found = dataclasses.replace(found, tags=None)
    account = parts[4]
    if account and account != finding.account:

        def elsewhere() -> dict[str, str]:
            raise _LookupFailed(
                f"the tags of {found.resource} cannot be read: it is in account {account}, not in the finding's "
                f"account {finding.account} where {solution.ORCHESTRATOR_MEMBER_ROLE} looks them up"
            )

        return found, elsewhere
    # The ARN's Region; a global resource's ARN has none (arn:aws:s3:::bucket): the finding's.
    return found, _LiveTags(finding, found.resource, parts[3] or finding.resource_region, reported)


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
    finding: Finding,
    target: dict[str, Any],
    event_type: Any,
    *,
    now: dt.datetime | None = None,
    attempt: int = 1,
    previous_outcome: str | None = None,
) -> tuple[Compiled, evaluate.Decision] | None:
    """The policy's decision for a resolved finding, None without a policy. ``attempt`` 2 or more is
    a retry (the worker's, after ``previous_outcome``): initiator ``retry``."""
    compiled = load()
    if compiled is None:
        return None
    found, tags = _tag_source(finding, facts(compiled, finding, target))
    try:
        decision = evaluate.decide(
            compiled.policy,
            found,
            now=now or dt.datetime.now(dt.UTC),
            ou_resolver=_ous(compiled, found.control),
            tags=tags,
            initiator=evaluate.RETRY if attempt > 1 else initiator(event_type),
            attempt=attempt,
            previous_outcome=previous_outcome,
        )
    except evaluate.DecisionInputError as err:
        raise PolicyUnavailable(
            f"remediation policy {compiled.where} cannot decide for {found.resource}: {err}. Nothing was remediated"
        ) from None
    if isinstance(tags, _LiveTags) and tags.fallback:
        decision = dataclasses.replace(decision, tags_from="finding")
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
