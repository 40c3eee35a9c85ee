"""The admin stack's CloudWatch dashboard and alarms.

* Dashboard ``ASR-Remediation-Metrics-Dashboard`` (condition ``isUsingCloudWatchMetrics``): successful
  remediations and the time they saved, failures (total, by outcome, as a rate), runbook assume-role
  failures and orchestrator executions with their alarm thresholds, the Action Log (Logs Insights), the
  findings the remediation policy stopped and its deadline escalations (DEADLINE_EXCEEDED), and, with
  enhanced metrics (``enhancedMetricsEnabled``), successes, failures and the failure rate per control.
* Alarms to ``SO0111-ASR_Alarm_Topic`` (condition ``isUsingCloudWatchMetricsAlarms``): ``ASR-NoRunbook``,
  ``ASR-RunbookAssumeRoleFailure``, ``ASR-StateMachineExecutions`` (the implementation guide documents it,
  the reference lacks it) and, with enhanced metrics (``enhancedAlarmsEnabled``), one
  ``ASR-<control>-remediation-failure`` per control of the SC playbook.

Everything graphed or watched in namespace ``ASR`` is what the notifier sends
(``lambdas/orchestrator/notifications.py``: ``put_metrics``, ``assume_role_failure_metric``), by the names in
``asr/solution.py``; ``tests/infrastructure/test_dashboard.py`` runs the notifier on moto for every outcome
and control and checks every metric of the dashboard and the alarms against what it sent.

Differences from the reference v2.3.2 dashboard and alarms (docs/differences.md):

* "Estimated Hours Saved": one number of minutes per remediation in the formula, its label and the text
  (the reference's text said 30 minutes, its formula used 10).
* Failures count every failure outcome the orchestrator has (the reference's 5, plus ASSUME_ROLE_FAILURE,
  PERMISSION_MISSING, TIMEDOUT, CANCELLED).
* Failure rates fill a missing series with 0: in the reference, a day of failures without a single success
  had no rate at all, so a control failing every time never alarmed.
* The per-control rate is drawn in several graphs of at most 18 controls (a graph is one GetMetricData
  call, at most 500 queries), each with the alarm threshold (the reference labelled it "S3.9" for all).
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from asr import solution
from lambdas.orchestrator import outcomes

DAY = cdk.Duration.days(1)
#: Manual work one remediation saves, in minutes: the formula, its label and the text all use it.
MINUTES_SAVED_PER_REMEDIATION = 30
#: Outcomes of a finding ASR could not remediate: every outcome but SUCCESS, QUEUED (not final)
#: and NOT_NEW (nothing to do). Each has its label in the "by type" graph.
FAILURE_LABELS = {
    outcomes.NO_RUNBOOK: "No runbook",
    outcomes.PLAYBOOK_NOT_ENABLED: "Playbook not enabled",
    outcomes.RUNBOOK_NOT_ACTIVE: "Runbook not active",
    outcomes.ASSUME_ROLE_FAILURE: "Member role not assumed",
    outcomes.PERMISSION_MISSING: "Permission missing",
    outcomes.LAMBDA_ERROR: "Lambda error",
    outcomes.FAILED: "Runbook failed",
    outcomes.TIMEDOUT: "Runbook timed out",
    outcomes.CANCELLED: "Runbook cancelled",
}
FAILURE_OUTCOMES = tuple(
    o
    for o in outcomes.ALL
    if o not in (outcomes.SUCCESS, outcomes.QUEUED, outcomes.NOT_NEW, *outcomes.POLICY, outcomes.DEADLINE_EXCEEDED)
)
#: DEADLINE_EXCEEDED is not a failure of its own (the attempt it follows was counted when it ended): an
#: escalation of a finding still open after the policy's deadline, graphed apart ("Deadlines Exceeded").
#: Outcomes of a finding the remediation policy stopped (docs/policy.md): not failures, the policy
#: did what it says; each has its label in the "Stopped by the remediation policy" graph.
POLICY_LABELS = {
    outcomes.DISABLED: "Disabled by policy",
    outcomes.EXEMPT: "Exempt",
    outcomes.OUT_OF_SCOPE: "Out of scope",
    outcomes.DRY_RUN: "Dry run (would remediate)",
    outcomes.MANUAL_ONLY: "Manual only (automatic trigger ignored)",
}
#: Per control, a failure is a remediation runbook that ran and did not succeed (failed, rejected,
#: timed out, cancelled): the resolve-stage outcomes say the deployment is wrong, not the control's
#: remediation, and have their own alarms (ASR-NoRunbook, ASR-RunbookAssumeRoleFailure).
CONTROL_FAILURE_OUTCOMES = tuple(sorted(set(outcomes.AUTOMATION_STATUS.values()) - {outcomes.SUCCESS}))
#: An alarm on metric math reads at most 10 metrics (hard limit):
#: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-limits.html
ALARM_MAX_METRICS = 10
#: A graph is one GetMetricData call, which takes at most 500 queries (metrics and expressions):
#: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
WIDGET_MAX_QUERIES = 500
CONTROLS_PER_RATE_GRAPH = 18
#: The Action Log widget's Logs Insights query (the fields the member's event processor keeps).
ACTION_LOG_QUERY = (
    "fields @timestamp, eventSource, eventName, awsRegion, recipientAccountId, resources.0.ARN, @message",
    "sort @timestamp desc",
    "limit 20",
)

if set(FAILURE_LABELS) != set(FAILURE_OUTCOMES):  # a new outcome needs its label
    raise ValueError(f"failure outcomes without a label: {sorted(set(FAILURE_OUTCOMES) - set(FAILURE_LABELS))}")
if set(POLICY_LABELS) != set(outcomes.POLICY):
    raise ValueError(f"policy outcomes without a label: {sorted(set(outcomes.POLICY) - set(POLICY_LABELS))}")
if len(CONTROL_FAILURE_OUTCOMES) + 1 > ALARM_MAX_METRICS:
    raise ValueError(f"a per-control alarm would read more than {ALARM_MAX_METRICS} metrics")


def outcome_metric(outcome: str, control_id: str | None = None, label: str | None = None) -> cloudwatch.Metric:
    """``ASR/RemediationOutcome`` of one outcome (and one control), summed per day."""
    dimensions = {solution.DIMENSION_OUTCOME: outcome}
    if control_id is not None:
        dimensions[solution.DIMENSION_CONTROL_ID] = control_id
    return cloudwatch.Metric(
        namespace=solution.METRICS_NAMESPACE,
        metric_name=solution.METRIC_REMEDIATION_OUTCOME,
        dimensions_map=dimensions,
        statistic="Sum",
        period=DAY,
        label=label,
    )


def assume_role_failure_metric() -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=solution.METRICS_NAMESPACE,
        metric_name=solution.METRIC_ASSUME_ROLE_FAILURE,
        statistic="Sum",
        period=DAY,
        label="Assume-role failures",
    )


def time_to_remediate_search(statistic: str) -> cloudwatch.MathExpression:
    """``ASR/TimeToRemediate`` per control (seconds from first seen to SUCCESS), one series per control."""
    query = (
        f"{{{solution.METRICS_NAMESPACE},{solution.DIMENSION_CONTROL_ID}}} "
        f'MetricName="{solution.METRIC_TIME_TO_REMEDIATE}"'
    )
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{query}', '{statistic}', {int(DAY.to_seconds())})", label="", period=DAY
    )


def history_write_failure_metric() -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=solution.METRICS_NAMESPACE,
        metric_name=solution.METRIC_HISTORY_WRITE_FAILURE,
        statistic="Sum",
        period=DAY,
        label="History write failures",
    )


def _sum(keys: Sequence[str]) -> str:
    """Sum of metric ids, a day without a datapoint counting 0."""
    return "+".join(f"FILL({k},0)" for k in keys)


def failure_rate(
    failures: dict[str, cloudwatch.IMetric], success: tuple[str, cloudwatch.IMetric], label: str
) -> cloudwatch.MathExpression:
    """100 * failures / (failures + successes), per day; no value on a day without either."""
    total = _sum(list(failures))
    key, metric = success
    return cloudwatch.MathExpression(
        expression=f"100*({total})/({total}+FILL({key},0))",
        using_metrics={**failures, key: metric},
        label=label,
        period=DAY,
    )


def control_failure_rate(control_id: str, prefix: str = "") -> cloudwatch.MathExpression:
    """Failure rate of one control; ``prefix`` keeps metric ids unique among the controls of a graph."""
    failures: dict[str, cloudwatch.IMetric] = {
        f"{prefix}{o.lower()}": outcome_metric(o, control_id) for o in CONTROL_FAILURE_OUTCOMES
    }
    return failure_rate(failures, (f"{prefix}success", outcome_metric(outcomes.SUCCESS, control_id)), control_id)


def _search(outcome_values: Sequence[str], label: str) -> cloudwatch.MathExpression:
    """Per-control daily sums of the given outcomes, one series per control id (enhanced metrics)."""
    schema = f"{{{solution.METRICS_NAMESPACE},{solution.DIMENSION_CONTROL_ID},{solution.DIMENSION_OUTCOME}}}"
    match = " OR ".join(f'{solution.DIMENSION_OUTCOME}="{o}"' for o in outcome_values)
    query = f'{schema} MetricName="{solution.METRIC_REMEDIATION_OUTCOME}" ({match})'
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{query}', 'Sum', {int(DAY.to_seconds())})", label=label, period=DAY
    )


class MetricsDashboard(Construct):
    """The dashboard and the alarms; ``alarms`` maps every alarm name to its alarm."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state_machine: sfn.IStateMachine,
        alarm_topic: sns.ITopic,
        metrics_on: cdk.CfnCondition,
        alarms_on: cdk.CfnCondition,
        enhanced_on: cdk.CfnCondition,
        enhanced_alarms_on: cdk.CfnCondition,
        failure_threshold: cdk.CfnParameter,
        executions_threshold: cdk.CfnParameter,
        control_ids: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        action = cloudwatch_actions.SnsAction(alarm_topic)

        def alarm(name: str, metric: cloudwatch.IMetric, threshold: float, description: str, condition) -> None:
            made = cloudwatch.Alarm(
                self,
                name,
                alarm_name=name,
                alarm_description=description,
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                datapoints_to_alarm=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            made.add_alarm_action(action)
            made.node.default_child.cfn_options.condition = condition
            self.alarms[name] = made

        executions = state_machine.metric_started(period=DAY, statistic="Sum", label="Executions started")
        alarm(
            solution.NO_RUNBOOK_ALARM,
            outcome_metric(outcomes.NO_RUNBOOK),
            1,
            "A finding had no control runbook in its member account and Region (outcome NO_RUNBOOK) in the last day: "
            "deploy the member stack there, or enable the control.",
            alarms_on,
        )
        alarm(
            solution.ASSUME_ROLE_FAILURE_ALARM,
            assume_role_failure_metric(),
            1,
            f"The orchestrator could not assume {solution.ORCHESTRATOR_MEMBER_ROLE} in a member account in the last "
            "day: deploy the member-roles stack there (same Namespace) and check its trust of this account.",
            alarms_on,
        )
        alarm(
            solution.STATE_MACHINE_EXECUTIONS_ALARM,
            executions,
            executions_threshold.value_as_number,
            f"{solution.ORCHESTRATOR_NAME} started at least StateMachineExecutionsAlarmThreshold executions in the "
            "last day: a remediation loop, or more findings than expected (cost).",
            alarms_on,
        )
        for control in control_ids:
            alarm(
                solution.control_failure_alarm(control),
                control_failure_rate(control),
                failure_threshold.value_as_number,
                f"At least RemediationFailureAlarmThreshold percent of the {control} remediations that ran in the last "
                f"day did not succeed ({', '.join(CONTROL_FAILURE_OUTCOMES)}).",
                enhanced_alarms_on,
            )

        base, bottom = self._widgets(executions, executions_threshold)
        enhanced, _ = self._enhanced_widgets(control_ids, failure_threshold, y=bottom)
        # One body; the enhanced widgets are spliced in with Fn::If (the body is a string, not a list).
        stack = cdk.Stack.of(self)

        def rendered(widgets: list[cloudwatch.IWidget]) -> str:
            return ",".join(stack.to_json_string(w) for widget in widgets for w in widget.to_json())

        enhanced_part = cdk.Token.as_string(cdk.Fn.condition_if(enhanced_on.logical_id, "," + rendered(enhanced), ""))
        self.dashboard = cloudwatch.CfnDashboard(
            self,
            "Resource",
            dashboard_name=solution.DASHBOARD_NAME,
            dashboard_body='{"start":"-P7D","periodOverride":"inherit","widgets":['
            + rendered(base)
            + enhanced_part
            + "]}",
        )
        self.dashboard.cfn_options.condition = metrics_on

    def _widgets(self, executions: cloudwatch.IMetric, executions_threshold: cdk.CfnParameter) -> tuple[list, int]:
        minutes = MINUTES_SAVED_PER_REMEDIATION
        success = outcome_metric(outcomes.SUCCESS, label="Successful remediations")
        failures = {o.lower(): outcome_metric(o, label=FAILURE_LABELS[o]) for o in FAILURE_OUTCOMES}
        assume_alarm = self.alarms[solution.ASSUME_ROLE_FAILURE_ALARM]
        rows: list[list] = [
            [
                cloudwatch.TextWidget(
                    width=8,
                    height=6,
                    markdown=(
                        "# Automated Security Response on AWS\n"
                        "Remediations run by the orchestrator, from its notifications (namespace "
                        f"`{solution.METRICS_NAMESPACE}`). **Estimated hours saved** counts {minutes} minutes of "
                        "manual work per successful remediation.\n\n"
                        "Set the dashboard's time range to see another period: both numbers add up that range."
                    ),
                ),
                cloudwatch.SingleValueWidget(
                    title="Total Successful Remediations",
                    metrics=[success],
                    set_period_to_time_range=True,
                    width=8,
                    height=6,
                ),
                cloudwatch.SingleValueWidget(
                    title="Estimated Hours Saved",
                    metrics=[
                        cloudwatch.MathExpression(
                            expression=f"success*{minutes}/60",
                            using_metrics={"success": success},
                            label=f"Hours saved ({minutes} min per remediation)",
                            period=DAY,
                        )
                    ],
                    set_period_to_time_range=True,
                    width=8,
                    height=6,
                ),
            ],
            [
                cloudwatch.TextWidget(
                    width=6,
                    height=6,
                    markdown=(
                        "## Remediation Failures by Type\n"
                        + "\n".join(f"* **{FAILURE_LABELS[o]}**: `{o}`" for o in FAILURE_OUTCOMES)
                        + "\n\nThe SNS notification and the finding's note of each say why."
                    ),
                ),
                cloudwatch.GraphWidget(
                    title="Remediation Failures",
                    left=[
                        cloudwatch.MathExpression(
                            expression=_sum(list(failures)), using_metrics=failures, label="Failures", period=DAY
                        )
                    ],
                    left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
                    period=DAY,
                    width=6,
                    height=6,
                ),
                cloudwatch.GraphWidget(
                    title="Remediation Failures by Type",
                    left=list(failures.values()),
                    left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
                    stacked=True,
                    period=DAY,
                    width=6,
                    height=6,
                ),
                cloudwatch.GraphWidget(
                    title="Remediation Failure Rate",
                    left=[failure_rate(failures, ("success", success), "Failure rate (%)")],
                    left_y_axis=cloudwatch.YAxisProps(min=0, max=100, label="%", show_units=False),
                    period=DAY,
                    width=6,
                    height=6,
                ),
            ],
            [
                cloudwatch.TextWidget(
                    width=6,
                    height=6,
                    markdown=(
                        "## Member roles and executions\n"
                        f"**Runbook Assume Role Failures**: the orchestrator could not assume "
                        f"`{solution.ORCHESTRATOR_MEMBER_ROLE}` in a member account (alarm "
                        f"`{solution.ASSUME_ROLE_FAILURE_ALARM}`).\n\n"
                        f"**Orchestrator Executions**: executions of `{solution.ORCHESTRATOR_NAME}` started per day "
                        f"(alarm `{solution.STATE_MACHINE_EXECUTIONS_ALARM}` at StateMachineExecutionsAlarmThreshold)."
                    ),
                ),
                cloudwatch.GraphWidget(
                    title="Runbook Assume Role Failures",
                    left=[assume_role_failure_metric()],
                    left_annotations=[assume_alarm.to_annotation()],
                    left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
                    period=DAY,
                    width=9,
                    height=6,
                ),
                cloudwatch.GraphWidget(
                    title="Orchestrator Executions Started",
                    left=[executions],
                    left_annotations=[
                        cloudwatch.HorizontalAnnotation(
                            value=executions_threshold.value_as_number,
                            label=f"{solution.STATE_MACHINE_EXECUTIONS_ALARM} threshold",
                        )
                    ],
                    left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
                    period=DAY,
                    width=9,
                    height=6,
                ),
            ],
            [
                cloudwatch.TextWidget(
                    width=6,
                    height=6,
                    markdown=(
                        "## Action Log\n"
                        "API calls made by ASR's roles in the member accounts that enabled the Action Log "
                        f"(CloudTrail management events, forwarded to `{solution.ACTION_LOG_GROUP}`)."
                    ),
                ),
                cloudwatch.LogQueryWidget(
                    title="CloudTrail Management Actions by ASR",
                    log_group_names=[solution.ACTION_LOG_GROUP],
                    query_lines=list(ACTION_LOG_QUERY),
                    view=cloudwatch.LogQueryVisualizationType.TABLE,
                    width=18,
                    height=6,
                ),
            ],
            [
                cloudwatch.TextWidget(
                    width=6,
                    height=6,
                    markdown=(
                        "## Time to remediate\n"
                        "Per control, the time from the finding's first sighting (`FirstObservedAt`, else "
                        "`CreatedAt`) to a successful remediation, p90 per day; every attempt is in table "
                        f"`{solution.HISTORY_TABLE}` (`asr history`, docs/history.md). A history record that "
                        "could not be written is counted in History write failures."
                    ),
                ),
                cloudwatch.GraphWidget(
                    title="Time to Remediate by Control Id (p90)",
                    left=[time_to_remediate_search("p90")],
                    left_y_axis=cloudwatch.YAxisProps(min=0, label="seconds", show_units=False),
                    legend_position=cloudwatch.LegendPosition.RIGHT,
                    period=DAY,
                    width=12,
                    height=6,
                ),
                cloudwatch.GraphWidget(
                    title="History Write Failures",
                    left=[history_write_failure_metric()],
                    left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
                    period=DAY,
                    width=6,
                    height=6,
                ),
            ],
            [
                cloudwatch.TextWidget(
                    width=6,
                    height=6,
                    markdown=(
                        "## Remediation policy\n"
                        "Findings the remediation policy stopped before any automation (docs/policy.md):\n"
                        + "\n".join(f"* **{POLICY_LABELS[o]}**: `{o}`" for o in outcomes.POLICY)
                        + "\n\n**Deadlines Exceeded**: findings still open after the policy's `deadline`, escalated "
                        f"on the topic (`{outcomes.DEADLINE_EXCEEDED}`)."
                    ),
                ),
                cloudwatch.GraphWidget(
                    title="Stopped by the Remediation Policy",
                    left=[outcome_metric(o, label=POLICY_LABELS[o]) for o in outcomes.POLICY],
                    left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
                    stacked=True,
                    period=DAY,
                    width=12,
                    height=6,
                ),
                cloudwatch.GraphWidget(  # escalations of the policy's deadline (lambdas/orchestrator/deadline.py)
                    title="Deadlines Exceeded",
                    left=[outcome_metric(outcomes.DEADLINE_EXCEEDED, label="Findings escalated (DEADLINE_EXCEEDED)")],
                    left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
                    period=DAY,
                    width=6,
                    height=6,
                ),
            ],
        ]
        return _layout(rows)

    def _enhanced_widgets(self, control_ids: Sequence[str], threshold: cdk.CfnParameter, y: int) -> tuple[list, int]:
        annotation = cloudwatch.HorizontalAnnotation(
            value=threshold.value_as_number, label="Alarm threshold (RemediationFailureAlarmThreshold)"
        )
        rows: list[list] = [
            [
                cloudwatch.TextWidget(
                    width=6,
                    height=6,
                    markdown=(
                        "## Per control (enhanced metrics)\n"
                        "Remediations per control id, and the share of the remediation runbooks that ran and did "
                        f"not succeed ({', '.join(f'`{o}`' for o in CONTROL_FAILURE_OUTCOMES)}). Each control has "
                        "an alarm `ASR-<control>-remediation-failure` at RemediationFailureAlarmThreshold percent."
                    ),
                ),
                cloudwatch.GraphWidget(
                    title="Successful remediations by Control Id",
                    left=[_search([outcomes.SUCCESS], "")],
                    view=cloudwatch.GraphWidgetView.BAR,
                    period=DAY,
                    width=9,
                    height=6,
                ),
                cloudwatch.GraphWidget(
                    title="Failed remediations by Control Id",
                    left=[_search(CONTROL_FAILURE_OUTCOMES, "")],
                    view=cloudwatch.GraphWidgetView.BAR,
                    period=DAY,
                    width=9,
                    height=6,
                ),
            ]
        ]
        graphs = []
        for start in range(0, len(control_ids), CONTROLS_PER_RATE_GRAPH):
            chunk = control_ids[start : start + CONTROLS_PER_RATE_GRAPH]
            graphs.append(
                cloudwatch.GraphWidget(
                    title=f"Remediation Failure Rate by Control Id ({chunk[0]} to {chunk[-1]})",
                    left=[control_failure_rate(c, prefix=f"c{i}_") for i, c in enumerate(chunk)],
                    left_annotations=[annotation],
                    left_y_axis=cloudwatch.YAxisProps(min=0, max=100, label="%", show_units=False),
                    legend_position=cloudwatch.LegendPosition.RIGHT,
                    period=DAY,
                    width=12,
                    height=6,
                )
            )
        rows += [graphs[i : i + 2] for i in range(0, len(graphs), 2)]
        return _layout(rows, y)


def _layout(rows: list[list], y: int = 0) -> tuple[list, int]:
    """Place each row's widgets left to right, rows top to bottom, from line ``y``; the widgets and
    the line below them."""
    placed = []
    for row in rows:
        x = 0
        for widget in row:
            widget.position(x, y)
            x += widget.width
            placed.append(widget)
        if x > 24:
            raise ValueError(f"a dashboard row is {x} columns wide (at most 24)")
        y += max(w.height for w in row)
    return placed, y
