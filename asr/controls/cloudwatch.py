"""Amazon CloudWatch controls: the CIS log-metric-filter-and-alarm controls (CloudWatch.1-14)
and log group retention (CloudWatch.16)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from asr.controls.base import (
    Context,
    EvaluationError,
    Evaluator,
    Resource,
    Verdict,
    control,
    failed,
    not_applicable,
    passed,
)

DOC = "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html"


# --------------------------------------------------------------------------------------
# CloudWatch.1-14: a metric filter and an alarm on the CloudTrail log group
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricFilterControl:
    control_id: str
    subject: str
    # Each accepted filter pattern, quoted from the control page (first entry); see CloudWatch.3.
    patterns: tuple[str, ...]
    # A management event source that the trail must not exclude (the CloudWatch.7 page says the
    # control fails when ExcludeManagementEventSources contains kms.amazonaws.com).
    required_event_source: str | None = None


METRIC_FILTER_CONTROLS: tuple[MetricFilterControl, ...] = (
    MetricFilterControl(
        "CloudWatch.1",
        'usage of the "root" user',
        ('{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}',),
    ),
    MetricFilterControl(
        "CloudWatch.2",
        "unauthorized API calls",
        ('{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',),
    ),
    MetricFilterControl(
        "CloudWatch.3",
        "Management Console sign-in without MFA",
        (
            # The pattern of the control page's remediation ...
            '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
            '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
            # ... and the pattern of CIS v1.2.0 control 3.2, whose "exact audit steps" the page
            # says the check performs (CIS lists the longer one as its SSO-friendly alternative).
            '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
        ),
    ),
    MetricFilterControl(
        "CloudWatch.4",
        "IAM policy changes",
        (
            "{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || "
            "($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || "
            "($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || "
            "($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || "
            "($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || "
            "($.eventName=DetachGroupPolicy)}",
        ),
    ),
    MetricFilterControl(
        "CloudWatch.5",
        "CloudTrail configuration changes",
        (
            "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || "
            "($.eventName=StartLogging) || ($.eventName=StopLogging)}",
        ),
    ),
    MetricFilterControl(
        "CloudWatch.6",
        "AWS Management Console authentication failures",
        ('{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',),
    ),
    MetricFilterControl(
        "CloudWatch.7",
        "disabling or scheduled deletion of customer managed keys",
        ("{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}",),
        required_event_source="kms.amazonaws.com",
    ),
    MetricFilterControl(
        "CloudWatch.8",
        "S3 bucket policy changes",
        (
            "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || "
            "($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || "
            "($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || "
            "($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}",
        ),
    ),
    MetricFilterControl(
        "CloudWatch.9",
        "AWS Config configuration changes",
        (
            "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || "
            "($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || "
            "($.eventName=PutConfigurationRecorder))}",
        ),
    ),
    MetricFilterControl(
        "CloudWatch.10",
        "security group changes",
        (
            "{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || "
            "($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || "
            "($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}",
        ),
    ),
    MetricFilterControl(
        "CloudWatch.11",
        "changes to Network Access Control Lists (NACL)",
        (
            "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || "
            "($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || "
            "($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}",
        ),
    ),
    MetricFilterControl(
        "CloudWatch.12",
        "changes to network gateways",
        (
            "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || "
            "($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || "
            "($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}",
        ),
    ),
    MetricFilterControl(
        "CloudWatch.13",
        "route table changes",
        (
            "{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || "
            "($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || "
            "($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable)}",
        ),
    ),
    MetricFilterControl(
        "CloudWatch.14",
        "VPC changes",
        (
            "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || "
            "($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || "
            "($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || "
            "($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || "
            "($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}",
        ),
    ),
)


# -- filter pattern comparison ---------------------------------------------------------
#
# The control pages say the check fails "if the exact metric filters prescribed by CIS are not
# used. Additional fields or terms cannot be added". A pattern is therefore compared term by
# term, after parsing it as a CloudWatch Logs JSON filter pattern. What is tolerated is what
# does not change which log events match:
#   * whitespace between tokens, and parentheses that group nothing (``(($.a = 1))``,
#     ``($.a = 1) && ($.b = 2)`` versus ``$.a = 1 && $.b = 2``);
#   * the order of the operands of one ``&&`` chain or one ``||`` chain (both are commutative);
#   * double quotes around a plain value (letters, digits, ``.``, ``_``, ``-``): the AWS and
#     CIS texts write the same patterns both ways (``$.eventName = ConsoleLogin`` /
#     ``$.eventName = "ConsoleLogin"``).
# Nothing else is: an added, missing or repeated term, another operator, another value case,
# quotes around a value with a wildcard, or an ``&&``/``||`` mix that the text does not group
# with parentheses (its precedence is not documented) all make the pattern not match.

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*")
      | (?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\)|\{|\})
      | (?P<word>[^\s()&|{}=!<>"]+)
    )""",
    re.VERBOSE,
)
_PLAIN = re.compile(r"[A-Za-z0-9_.\-]+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_COMPARATORS = ("=", "!=", "<", ">", "<=", ">=")


class _PatternError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _PatternError(f"unexpected text at {pos}: {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _value(kind: str, raw: str) -> tuple[str, str]:
    if kind == "str":
        inner = raw[1:-1]
        return ("text", inner) if _PLAIN.fullmatch(inner) else ("quoted", inner)
    if _NUMBER.fullmatch(raw):
        return ("number", raw)
    return ("text", raw) if _PLAIN.fullmatch(raw) else ("bare", raw)


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (expected is not None and tok[1] != expected):
            raise _PatternError(f"expected {expected or 'a token'}, got {tok}")
        self.i += 1
        return tok

    def pattern(self) -> Any:
        self.take("{")
        node = self.expr()
        self.take("}")
        if self.peek() is not None:
            raise _PatternError("text after the closing brace")
        return node

    def expr(self) -> Any:
        operands = [self.term()]
        ops: list[str] = []
        while (tok := self.peek()) is not None and tok[1] in ("&&", "||"):
            ops.append(self.take()[1])
            operands.append(self.term())
        if not ops:
            return operands[0]
        if len(set(ops)) > 1:  # an ungrouped mix: keep it as written
            seq: list[Any] = [operands[0]]
            for op, operand in zip(ops, operands[1:], strict=True):
                seq += [op, operand]
            return ("mixed", tuple(seq))
        kind = "and" if ops[0] == "&&" else "or"
        flat: list[Any] = []
        for operand in operands:  # a && (b && c) is the chain a && b && c
            flat.extend(operand[1] if operand[0] == kind else [operand])
        return (kind, tuple(sorted(flat, key=repr)))

    def term(self) -> Any:
        tok = self.peek()
        if tok is not None and tok[1] == "(":
            self.take("(")
            node = self.expr()
            self.take(")")
            return node
        kind, selector = self.take()
        if kind != "word" or not selector.startswith("$"):
            raise _PatternError(f"expected a $ selector, got {selector!r}")
        tok = self.take()
        if tok[1] in _COMPARATORS:
            vkind, raw = self.take()
            if vkind == "op":
                raise _PatternError(f"expected a value after {tok[1]!r}")
            return ("cmp", selector, tok[1], _value(vkind, raw))
        if tok[1] == "NOT":
            self.take("EXISTS")
            return ("cmp", selector, "NOT EXISTS", None)
        if tok[1] == "IS":
            what = self.take()[1]
            if what not in ("NULL", "TRUE", "FALSE"):
                raise _PatternError(f"unexpected IS {what!r}")
            return ("cmp", selector, f"IS {what}", None)
        raise _PatternError(f"unexpected {tok[1]!r} after {selector!r}")


def canonical_pattern(text: str) -> Any | None:
    """The filter pattern as a comparable term tree, or None when it is not a JSON filter pattern."""
    try:
        return _Parser(text).pattern()
    except _PatternError:
        return None


def pattern_matches(actual: str, spec: MetricFilterControl) -> bool:
    got = canonical_pattern(actual)
    return got is not None and any(got == canonical_pattern(p) for p in spec.patterns)


# -- the AWS reads -----------------------------------------------------------------------


def _arn_parts(arn: str) -> list[str]:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise EvaluationError(f"{arn!r} is not an ARN")
    return parts


def _call(what: str, fn: Any, **kwargs: Any) -> Any:
    try:
        return fn(**kwargs)
    except ClientError as err:
        raise EvaluationError(f"{what}: {err}") from None


def _pages(client: Any, operation: str, key: str, what: str, **kwargs: Any) -> Iterator[Any]:
    try:
        for page in client.get_paginator(operation).paginate(**kwargs):
            yield from page.get(key, [])
    except ClientError as err:
        raise EvaluationError(f"{what}: {err}") from None


def _management_events_gap(selectors: dict[str, Any], spec: MetricFilterControl) -> str | None:
    """Why the trail's event selectors do not record all (read and write) management events, or None.

    CIS audit step: an event selector with IncludeManagementEvents true and ReadWriteType All.
    An advanced selector counts when it selects eventCategory = Management with no readOnly
    restriction and no other restriction than excluded event sources.
    """
    basic = selectors.get("EventSelectors") or []
    advanced = selectors.get("AdvancedEventSelectors") or []
    seen: list[str] = []
    for sel in basic:
        excluded = sel.get("ExcludeManagementEventSources") or []
        if not sel.get("IncludeManagementEvents"):
            seen.append("IncludeManagementEvents is false")
        elif sel.get("ReadWriteType") != "All":
            seen.append(f"ReadWriteType is {sel.get('ReadWriteType')!r}")
        elif spec.required_event_source and spec.required_event_source in excluded:
            seen.append(f"ExcludeManagementEventSources contains {spec.required_event_source!r}")
        else:
            return None
    for sel in advanced:
        fields = {fs.get("Field"): fs for fs in sel.get("FieldSelectors") or []}
        category = fields.pop("eventCategory", {})
        if category.get("Equals") != ["Management"]:
            continue
        source = fields.pop("eventSource", None)
        if "readOnly" in fields:
            seen.append(f"advanced selector {sel.get('Name')!r} restricts readOnly")
        elif fields:
            seen.append(f"advanced selector {sel.get('Name')!r} restricts {sorted(fields)}")
        elif source is not None and set(source) - {"Field", "NotEquals"}:
            seen.append(f"advanced selector {sel.get('Name')!r} restricts eventSource")
        elif source is not None and spec.required_event_source in (source.get("NotEquals") or []):
            seen.append(f"advanced selector {sel.get('Name')!r} excludes eventSource {spec.required_event_source!r}")
        else:
            return None
    if not basic and not advanced:
        return "no event selectors"
    return "no event selector records all management events (" + "; ".join(seen or ["none selects them"]) + ")"


def _confirmed_subscriptions(ctx: Context, topic_arn: str, control_id: str) -> tuple[int, int] | None:
    """(confirmed, pending) subscriptions of the topic, or None when the topic does not exist."""
    region = _arn_parts(topic_arn)[3]
    sns = ctx.client("sns", region)
    confirmed = pending = 0
    try:
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
            for sub in page.get("Subscriptions", []):
                if str(sub.get("SubscriptionArn", "")).startswith("arn:"):
                    confirmed += 1
                else:  # "PendingConfirmation" (or "Deleted"): not a subscriber yet
                    pending += 1
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("NotFound", "NotFoundException"):
            return None
        raise EvaluationError(
            f"{control_id}: cannot list the subscriptions of SNS topic {topic_arn!r}: {err}"
        ) from None
    return confirmed, pending


def _log_group_verdict(ctx: Context, log_group_arn: str, spec: MetricFilterControl) -> tuple[bool, str]:
    """Does this log group have a filter with the control's pattern, alarmed to a subscribed topic?"""
    parts = _arn_parts(log_group_arn)
    if parts[2] != "logs" or not parts[5].startswith("log-group:"):
        return False, f"CloudWatchLogsLogGroupArn {log_group_arn!r} is not a log group ARN"
    name = parts[5][len("log-group:") :].removesuffix(":*")
    logs = ctx.client("logs", parts[3])
    filters = [
        mf
        for mf in _pages(
            logs,
            "describe_metric_filters",
            "metricFilters",
            f"{spec.control_id}: cannot list the metric filters of log group {name!r}",
            logGroupName=name,
        )
        if mf.get("logGroupName", name) == name
    ]
    matching = [mf for mf in filters if pattern_matches(mf.get("filterPattern", ""), spec)]
    if not matching:
        return False, (
            f"log group {name!r} has no metric filter whose filterPattern is the {spec.control_id} pattern "
            f"({len(filters)} filter(s): {[mf.get('filterName') for mf in filters]})"
        )
    metrics = {
        (t.get("metricName"), t.get("metricNamespace"))
        for mf in matching
        for t in mf.get("metricTransformations") or []
    }
    cloudwatch = ctx.client("cloudwatch", parts[3])
    alarms = [
        alarm
        for alarm in _pages(
            cloudwatch, "describe_alarms", "MetricAlarms", f"{spec.control_id}: cannot list CloudWatch alarms"
        )
        if (alarm.get("MetricName"), alarm.get("Namespace")) in metrics
    ]
    filter_names = [mf.get("filterName") for mf in matching]
    if not alarms:
        return False, f"metric filter(s) {filter_names} on {name!r}: no alarm on metric(s) {sorted(map(str, metrics))}"
    problems: list[str] = []
    for alarm in alarms:
        topics = [a for a in alarm.get("AlarmActions") or [] if a.split(":")[2:3] == ["sns"]]
        if not topics:
            problems.append(f"alarm {alarm.get('AlarmName')!r}: AlarmActions has no SNS topic")
            continue
        for topic in topics:
            counts = _confirmed_subscriptions(ctx, topic, spec.control_id)
            if counts is None:
                problems.append(f"alarm {alarm.get('AlarmName')!r}: SNS topic {topic!r} does not exist")
            elif counts[0] == 0:
                problems.append(
                    f"alarm {alarm.get('AlarmName')!r}: SNS topic {topic!r} has no confirmed subscription "
                    f"({counts[1]} PendingConfirmation)"
                )
            else:
                return True, (
                    f"metric filter {filter_names[0]!r} on log group {name!r} matches the {spec.control_id} pattern; "
                    f"alarm {alarm.get('AlarmName')!r} notifies SNS topic {topic!r} with {counts[0]} confirmed "
                    "subscription(s)"
                )
    return False, "; ".join(problems)


def metric_filter_and_alarm(ctx: Context, resource: Resource, spec: MetricFilterControl) -> Verdict:
    """Shared evaluator of CloudWatch.1-14 (custom Security Hub checks, the CIS monitoring audit).

    PASSED when a CloudTrail trail owned by the account and based in the evaluated Region is
    multi-Region, logging (IsLogging), records all read and write management events, and
    delivers to a CloudWatch Logs log group that has a metric filter with the control's pattern,
    an alarm on that filter's metric, and that alarm's action is an SNS topic with at least one
    confirmed subscription. FAILED when there is no trail, or when the account's trails in the
    Region do not meet these requirements. Where the only trails are multi-Region trails based in
    another Region or owned by another account (an organization trail), Security Hub reports
    NO_DATA: this is NOT_APPLICABLE here.
    """
    cloudtrail = ctx.client("cloudtrail")
    trails = _call(
        f"{spec.control_id}: cannot describe CloudTrail trails of {resource.id!r}",
        cloudtrail.describe_trails,
        includeShadowTrails=True,
    ).get("trailList", [])
    if not trails:
        return failed("no CloudTrail trail is configured (describe_trails returned no trailList entry)")
    own = [
        t
        for t in trails
        if _arn_parts(t["TrailARN"])[4] == ctx.account and t.get("HomeRegion", ctx.region) == ctx.region
    ]
    if not own:
        elsewhere = [f"{t['TrailARN']} (HomeRegion {t.get('HomeRegion')!r})" for t in trails]
        return not_applicable(
            f"Security Hub reports NO_DATA: the trails that apply here are based in another Region or owned by "
            f"another account: {elsewhere}"
        )
    problems: list[str] = []
    for trail in own:
        arn, label = trail["TrailARN"], f"trail {trail.get('Name')!r}"
        if not trail.get("IsMultiRegionTrail"):
            problems.append(f"{label}: IsMultiRegionTrail is false")
            continue
        status = _call(f"{spec.control_id}: cannot get the status of {arn!r}", cloudtrail.get_trail_status, Name=arn)
        if not status.get("IsLogging"):
            problems.append(f"{label}: IsLogging is false")
            continue
        selectors = _call(
            f"{spec.control_id}: cannot get the event selectors of {arn!r}",
            cloudtrail.get_event_selectors,
            TrailName=arn,
        )
        gap = _management_events_gap(selectors, spec)
        if gap:
            problems.append(f"{label}: {gap}")
            continue
        log_group = trail.get("CloudWatchLogsLogGroupArn")
        if not log_group:
            problems.append(f"{label}: CloudWatchLogsLogGroupArn is not set")
            continue
        ok, why = _log_group_verdict(ctx, log_group, spec)
        if ok:
            return passed(f"{label} (multi-Region, logging, all management events): {why}")
        problems.append(f"{label}: {why}")
    return failed("; ".join(problems))


def _bind(spec: MetricFilterControl) -> Evaluator:
    def evaluator(ctx: Context, resource: Resource) -> Verdict:
        return metric_filter_and_alarm(ctx, resource, spec)

    evaluator.__name__ = "metric_filter_and_alarm_" + spec.control_id.replace(".", "_").lower()
    evaluator.__doc__ = f"{spec.control_id}: a log metric filter and alarm exist for {spec.subject}."
    return evaluator


for _spec in METRIC_FILTER_CONTROLS:
    control(
        _spec.control_id,
        doc=f"{DOC}#{_spec.control_id.replace('.', '-').lower()}",
        resource_types=("AwsAccount",),
        scope="account",
    )(_bind(_spec))


# --------------------------------------------------------------------------------------
# CloudWatch.16: log group retention
# --------------------------------------------------------------------------------------

# The values the Security Hub control parameter accepts (an enum, unlike the Config rule's list).
MIN_RETENTION_VALUES = (365, 400, 545, 731, 1827, 3653)


def log_group_name(resource: Resource) -> str:
    """The log group name of an ``arn:...:logs:...:log-group:NAME[:*]`` id (names may contain ``/``)."""
    parts = resource.id.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[5].startswith("log-group:"):
        return parts[5][len("log-group:") :].removesuffix(":*")
    if resource.id and not resource.id.startswith("arn:"):
        return resource.id
    raise EvaluationError(f"resource id {resource.id!r} is not a CloudWatch Logs log group ARN")


@control(
    "CloudWatch.16",
    doc=f"{DOC}#cloudwatch-16",
    resource_types=("AwsLogsLogGroup",),
    defaults={"minRetentionTime": 365},
)
def log_group_retention(ctx: Context, resource: Resource) -> Verdict:
    """CloudWatch.16 (Config rule cw-loggroup-retention-period-check): the log group's retention
    (retentionInDays) must be at least minRetentionTime days (Security Hub default 365). A log
    group without retentionInDays never expires and is compliant."""
    minimum = ctx.parameter("minRetentionTime")
    if isinstance(minimum, str) and minimum.isdigit():
        minimum = int(minimum)
    if isinstance(minimum, bool) or minimum not in MIN_RETENTION_VALUES:
        raise EvaluationError(f"CloudWatch.16: minRetentionTime {minimum!r} is not one of {MIN_RETENTION_VALUES}")
    name = log_group_name(resource)
    logs = ctx.client("logs")
    group = next(
        (
            g
            for g in _pages(
                logs,
                "describe_log_groups",
                "logGroups",
                f"CloudWatch.16: cannot describe log group {resource.id!r}",
                logGroupNamePrefix=name,
            )
            if g.get("logGroupName") == name
        ),
        None,
    )
    if group is None:
        raise EvaluationError(f"CloudWatch.16: log group {name!r} ({resource.id}) does not exist")
    days = group.get("retentionInDays")
    if days is None:
        return passed("retentionInDays is not set: the log group never expires")
    if days >= minimum:
        return passed(f"retentionInDays is {days}, at least minRetentionTime {minimum}")
    return failed(f"retentionInDays is {days}, less than minRetentionTime {minimum}")
