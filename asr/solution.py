"""Every name the solution uses, in one place.

Plain Python, standard library only: the CDK stacks import it, and the Lambda
packager bundles this very file into each function's zip (as ``asr/solution.py``),
so infrastructure and runtime code can never disagree on a name.

The names mirror the reference solution (Automated Security Response on AWS v2.3)
so that a team running it can move to this implementation without renaming
anything they rely on.
"""

from __future__ import annotations

import re

SOLUTION_ID = "SO0111"
SOLUTION_NAME = "Automated Security Response on AWS"
TRADEMARKED_NAME = "automated-security-response-on-aws"
VERSION = "v2.4.0"

# --- stack identities -------------------------------------------------------

TAG_SOLUTION_ID = "Solutions:SolutionID"
TAG_SOLUTION_NAME = "Solutions:SolutionName"
TAG_SOLUTION_VERSION = "Solutions:SolutionVersion"

#: CDK construct id -> (template file name, description prefix, description title)
ADMIN_STACK = "SolutionDeployStack"
MEMBER_STACK = "MemberStack"
MEMBER_ROLES_STACK = "MemberRolesStack"
RUNBOOK_STACK = "RunbookStack"
ORCHESTRATOR_LOG_STACK = "OrchestratorLogStack"
MEMBER_CLOUDTRAIL_STACK = "MemberCloudTrailStack"
JIRA_BLUEPRINT_STACK = "JiraBlueprintStack"
SERVICENOW_BLUEPRINT_STACK = "ServiceNowBlueprintStack"

TEMPLATE_FILES = {
    ADMIN_STACK: "automated-security-response-admin.template",
    MEMBER_STACK: "automated-security-response-member.template",
    MEMBER_ROLES_STACK: "automated-security-response-member-roles.template",
    RUNBOOK_STACK: "automated-security-response-remediation-runbooks.template",
    ORCHESTRATOR_LOG_STACK: "automated-security-response-orchestrator-log.template",
    MEMBER_CLOUDTRAIL_STACK: "automated-security-response-member-cloudtrail.template",
    JIRA_BLUEPRINT_STACK: "blueprints/JiraBlueprintStack.template",
    SERVICENOW_BLUEPRINT_STACK: "blueprints/ServiceNowBlueprintStack.template",
}

_DESCRIPTIONS = {
    ADMIN_STACK: ("", "Automated Security Response on AWS Administrator Stack"),
    MEMBER_STACK: ("M", "Automated Security Response on AWS Member Account Stack"),
    MEMBER_ROLES_STACK: ("R", "Automated Security Response on AWS Remediation Roles"),
    RUNBOOK_STACK: ("R", "Automated Security Response on AWS Remediation Runbooks"),
    ORCHESTRATOR_LOG_STACK: ("", "Automated Security Response on AWS Orchestrator Log"),
    MEMBER_CLOUDTRAIL_STACK: ("M", "Automated Security Response on AWS Member Action Log"),
    JIRA_BLUEPRINT_STACK: ("J", "Automated Security Response on AWS Jira Blueprint Stack"),
    SERVICENOW_BLUEPRINT_STACK: ("J", "Automated Security Response on AWS ServiceNow Blueprint Stack"),
}


def stack_description(stack_id: str, version: str = VERSION) -> str:
    """``(SO0111) Automated Security Response on AWS Administrator Stack, v2.4.0``."""
    suffix, title = _DESCRIPTIONS[stack_id]
    return f"({SOLUTION_ID}{suffix}) {title}, {version}"


def playbook_stack_description(standard_key: str, member: bool, version: str = VERSION) -> str:
    kind = "Member" if member else "Admin"
    return f"({SOLUTION_ID}P) {SOLUTION_NAME} {standard_key} {kind} Playbook, {version}"


def playbook_admin_template(standard_key: str) -> str:
    """``playbooks/SCStack.template``."""
    return f"playbooks/{standard_key}Stack.template"


def playbook_member_template(standard_key: str, part: int = 0) -> str:
    """``playbooks/SCMemberStack.template``, then ``SCMemberStack1.template`` ..."""
    return f"playbooks/{standard_key}MemberStack{part or ''}.template"


def runbook_stack_id(part: int = 0) -> str:
    """CDK id / nested stack id of a remediation-runbooks template part."""
    return f"{RUNBOOK_STACK}{part or ''}"


def runbook_template(part: int = 0) -> str:
    """``automated-security-response-remediation-runbooks[N].template``."""
    return TEMPLATE_FILES[RUNBOOK_STACK].replace(".template", f"{part or ''}.template")


def playbook_admin_stack_id(standard_key: str) -> str:
    return f"PlaybookAdminStack{standard_key}"


def playbook_member_stack_id(standard_key: str, part: int = 0) -> str:
    return f"PlaybookMemberStack{standard_key}{part or ''}"


def load_admin_parameter(standard_key: str) -> str:
    return f"Load{standard_key}AdminStack"


def load_member_parameter(standard_key: str) -> str:
    return f"Load{standard_key}MemberStack"


def load_condition(standard_key: str) -> str:
    return f"load{standard_key}Cond"


# --- distribution layout ----------------------------------------------------


def template_url_prefix(bucket_base: str, version: str = VERSION) -> str:
    """Where nested templates are fetched from (the ``-reference`` bucket)."""
    return f"https://{bucket_base}-reference.s3.amazonaws.com/{TRADEMARKED_NAME}/{version}"


#: Bucket base of a build made without one. S3 reserves the prefix ``amzn-s3-demo-`` for examples: no
#: account can create ``amzn-s3-demo-bucket-reference`` or ``-<region>``, so such templates point at no
#: one's buckets (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
#: Deployable templates are built with your own bucket base (``make BUCKET=...``, docs/deploy.md).
PLACEHOLDER_BUCKET_BASE = "amzn-s3-demo-bucket"


def lambda_key_prefix(version: str = VERSION) -> str:
    """Key prefix of Lambda zips inside ``<bucket_base>-<region>``."""
    return f"{TRADEMARKED_NAME}/{version}"


LAMBDA_ASSET_FOLDER = "lambda"

# --- SSM Parameter Store ----------------------------------------------------

SSM_PREFIX = f"/Solutions/{SOLUTION_ID}"
SSM_CMK_ARN = f"{SSM_PREFIX}/CMK_ARN"
SSM_SNS_TOPIC_ARN = f"{SSM_PREFIX}/SNS_Topic_ARN"
SSM_SEND_ANONYMIZED_METRICS = f"{SSM_PREFIX}/sendAnonymizedMetrics"
SSM_VERSION = f"{SSM_PREFIX}/version"
SSM_ORCHESTRATOR_ARN = f"{SSM_PREFIX}/OrchestratorArn"
SSM_SEND_CLOUDWATCH_METRICS = f"{SSM_PREFIX}/sendCloudwatchMetrics"
SSM_ANONYMOUS_METRICS_UUID = f"{SSM_PREFIX}/anonymous_metrics_uuid"
SSM_CMK_REMEDIATION_ARN = f"{SSM_PREFIX}/CMK_REMEDIATION_ARN"
SSM_MEMBER_VERSION = f"{SSM_PREFIX}/member-version"
SSM_METRICS_LOG_GROUP_NAME = f"{SSM_PREFIX}/Metrics_LogGroupName"
SSM_S3_4_KMS_KEY_ALIAS = f"{SSM_PREFIX}/afsbp/1.0.0/S3.4/KmsKeyAlias"
S3_4_DEFAULT_KMS_ALIAS = "default-s3-encryption"
SSM_REDSHIFT_4_BUCKET = f"{SSM_PREFIX}/afsbp/1.0.0/REDSHIFT.4/S3BucketNameForAuditLogging"


def ssm_standard_shortname(long_name: str, version: str) -> str:
    return f"{SSM_PREFIX}/{long_name}/{version}/shortname"


def ssm_standard_status(long_name: str, version: str) -> str:
    return f"{SSM_PREFIX}/{long_name}/{version}/status"


def ssm_control_remap(short_name: str, version: str, control_id: str) -> str:
    return f"{SSM_PREFIX}/{short_name}/{version}/{control_id}/remap"


def ssm_custom_runbook(key: str) -> str:
    """Parameter naming a custom runbook for a non-Security-Hub finding."""
    return f"{SSM_PREFIX}/{key}"


STANDARD_ENABLED = "enabled"

# --- IAM roles ----------------------------------------------------------------

ORCHESTRATOR_ADMIN_ROLE = f"{SOLUTION_ID}-ASR-Orchestrator-Admin"
ORCHESTRATOR_MEMBER_ROLE = f"{SOLUTION_ID}-ASR-Orchestrator-Member"
CROSS_ACCOUNT_LOG_WRITER_ROLE = "CrossAccountLogWriterRole"
CLOUDTRAIL_S3_TRIGGER_ROLE = "CloudTrailS3EventTriggerLambdaRole"
USE_DEFAULT_ROLE = f"{SOLUTION_ID}-UseDefaultRole"


def remediation_role(remediation: str, namespace: str) -> str:
    """``SO0111-<Remediation>-<ns>``, the role a remediation runbook runs as.

    ``remediation`` is the runbook name without its ``ASR-``/``AWS-`` prefix.
    """
    return f"{SOLUTION_ID}-{remediation}-{namespace}"


def service_role(purpose: str, namespace: str) -> str:
    """Service roles remediations hand to AWS services, e.g.
    ``SO0111-CloudTrailToCloudWatchLogs-<ns>``."""
    return f"{SOLUTION_ID}-{purpose}-{namespace}"


def custom_control_role(short_name: str, version: str, control_id: str) -> str:
    """Customer-made role the orchestrator prefers when it exists."""
    return f"{SOLUTION_ID}-Remediate-{short_name}-{version}-{control_id}"


# --- SSM documents ------------------------------------------------------------

DOCUMENT_PREFIX = "ASR-"
#: AWS-owned documents a control runbook runs. AWS-DisablePublicAccessForSecurityGroup and
#: AWS-TerminateEC2Instance were replaced by ASR-<Name> runbooks of ours (same remediation names,
#: so the member-roles stack keeps the role names SO0111-<Name>-<namespace>).
AWS_OWNED_DOCUMENTS = ("AWS-ConfigureS3BucketLogging",)


def remediation_document(remediation: str) -> str:
    """``ASR-<Remediation>``."""
    return f"{DOCUMENT_PREFIX}{remediation}"


def control_runbook(short_name: str, version: str, control_id: str) -> str:
    """``ASR-<short>_<ver>_<control>``, e.g. ``ASR-SC_2.0.0_Lambda.1``."""
    return f"{DOCUMENT_PREFIX}{short_name}_{version}_{control_id}"


# --- EventBridge ----------------------------------------------------------------

CUSTOM_ACTION_RULE = "Remediate_with_ASR_CustomAction"
TICKETING_ACTION_RULE = "ASR_Remediate_and_Ticket_CustomAction"
CUSTOM_ACTION_NAME = "Remediate with ASR"
CUSTOM_ACTION_ID = "ASRRemediation"
TICKETING_ACTION_NAME = "ASR:Remediate&Ticket"
TICKETING_ACTION_ID = "ASRTicketing"
EVENT_CUSTOM_ACTION = "Security Hub Findings - Custom Action"
EVENT_IMPORTED = "Security Hub Findings - Imported"


def _strip(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", value)


def auto_trigger_rule(short_name: str, version: str, control_id: str) -> str:
    """``SC_2.0.0_Lambda.1_AutoTrigger``."""
    return f"{short_name}_{version}_{control_id}_AutoTrigger"


def auto_trigger_parameter(short_name: str, version: str, control_id: str) -> str:
    """``SC200Lambda1AutoTrigger`` (CloudFormation parameter of the admin playbook)."""
    return f"{short_name}{_strip(version)}{_strip(control_id)}AutoTrigger"


def control_available_parameter(control_id: str) -> str:
    """``EnableLambda1`` (CloudFormation parameter of the member playbook)."""
    return f"Enable{_strip(control_id)}"


#: CloudFormation parameter of the admin playbook templates that resolves SSM_ORCHESTRATOR_ARN.
PLAYBOOK_ORCHESTRATOR_PARAMETER = "OrchestratorArn"


# --- orchestrator and notifications --------------------------------------------

ORCHESTRATOR_NAME = f"{SOLUTION_ID}-ASR-Orchestrator"
ORCHESTRATOR_LOG_GROUP = f"{SOLUTION_ID}-ASR-Orchestrator"
SOLUTION_LOG_GROUP = f"{SOLUTION_ID}-ASR"
ACTION_LOG_GROUP = f"/aws/lambda/{SOLUTION_ID}-ASR-CloudTrailEvents"
SNS_TOPIC = f"{SOLUTION_ID}-ASR_Topic"
SNS_TOPIC_DISPLAY_NAME = f"Automated Security Response on AWS ({SOLUTION_ID}) Status Topic"
ALARM_TOPIC = f"{SOLUTION_ID}-ASR_Alarm_Topic"
ALARM_TOPIC_DISPLAY_NAME = f"ASR Alarm Topic ({SOLUTION_ID})"
ADMIN_KMS_ALIAS = f"{SOLUTION_ID}-SHARR-Key"
MEMBER_KMS_ALIAS = f"{SOLUTION_ID}-SHARR-Remediation-Key"
#: The member stack's remediation key mode (docs/encryption.md) and the key it names in Existing mode.
KEY_MODE_PARAMETER = "RemediationKeyMode"
KEY_ARN_PARAMETER = "RemediationKeyArn"
KEY_MODE_NONE, KEY_MODE_EXISTING, KEY_MODE_PER_STACK = "None", "Existing", "PerStack"
KEY_MODES = (KEY_MODE_NONE, KEY_MODE_EXISTING, KEY_MODE_PER_STACK)
KEY_MODE_PER_STACK_CONDITION = "RemediationKeyPerStack"
KEY_MODE_EXISTING_CONDITION = "RemediationKeyExisting"
KEY_MODE_HAS_KEY_CONDITION = "RemediationKeyConfigured"
#: Empty, or a KMS key / alias ARN whose Region may be written {region} (replaced by the stack's Region).
KEY_ARN_PARAMETER_PATTERN = (
    r"^$|^arn:aws(-cn|-us-gov)?:kms:([a-z]{2}(-gov)?-[a-z]+-[0-9]|\{region\}):[0-9]{12}:"
    r"(key/(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})|alias/[a-zA-Z0-9/_-]{1,250})$"
)
#: Reference v2.3.2 logical ids of the member key, its alias and CMK_REMEDIATION_ARN (in-place upgrades).
MEMBER_KEY_LOGICAL_ID = "SHARRRemediationKeyE744743D"
MEMBER_KEY_ALIAS_LOGICAL_ID = "SHARRRemediationKeyAlias5531874D"
KEY_PARAMETER_LOGICAL_ID = "SHARRKeyAliasEBF509D8"
#: Optional organization key stack (admin account, one per Region) and its alias.
ORG_KEY_STACK = "OrganizationKeyStack"
ORG_KEY_TEMPLATE = "automated-security-response-org-key.template"
ORG_KMS_ALIAS = f"{SOLUTION_ID}-ASR-Organization-Key"
DASHBOARD_NAME = "ASR-Remediation-Metrics-Dashboard"
METRICS_NAMESPACE = "ASR"
#: Metrics the notifier sends to METRICS_NAMESPACE (lambdas/orchestrator/notifications.py): one
#: RemediationOutcome per notification, dimension Outcome, and with enhanced metrics a second one with
#: Outcome and ControlId; AssumeRoleFailure (no dimension) when the member role cannot be assumed.
METRIC_REMEDIATION_OUTCOME = "RemediationOutcome"
METRIC_ASSUME_ROLE_FAILURE = "AssumeRoleFailure"
DIMENSION_OUTCOME = "Outcome"
DIMENSION_CONTROL_ID = "ControlId"
#: Alarms of the admin stack (to ALARM_TOPIC); the first two and the per-control ones as in the reference.
NO_RUNBOOK_ALARM = "ASR-NoRunbook"
ASSUME_ROLE_FAILURE_ALARM = "ASR-RunbookAssumeRoleFailure"
STATE_MACHINE_EXECUTIONS_ALARM = "ASR-StateMachineExecutions"


def control_failure_alarm(control_id: str) -> str:
    """``ASR-S3.9-remediation-failure``: failure rate of one control (enhanced metrics)."""
    return f"ASR-{control_id}-remediation-failure"


#: Orchestrator Lambda functions (reference names where the role matches).
RESOLVE_FUNCTION = f"{SOLUTION_ID}-ASR-checkSSMDocumentState"
WORKER_FUNCTION = f"{SOLUTION_ID}-ASR-schedulingLambdaTrigger"
NOTIFY_FUNCTION = f"{SOLUTION_ID}-ASR-sendNotifications"
CUSTOM_ACTION_FUNCTION = f"{SOLUTION_ID}-SHARR-CustomAction"
CUSTOM_ACTION_DESCRIPTION = "Submit the finding to Automated Response and Remediation (ASR) for remediation."
TICKETING_ACTION_DESCRIPTION = "Submit the finding to ASR for remediation, and create a ticket."
#: Placeholder ticket function name when TicketGenFunctionName is blank (never invoked).
NO_TICKET_FUNCTION = f"{SOLUTION_ID}-ASR-NoTicketGenerator"
#: Ticket generators of the blueprint stacks (put one in the admin TicketGenFunctionName).
JIRA_TICKET_FUNCTION = f"{SOLUTION_ID}-ASR-Jira-TicketGenerator"
SERVICENOW_TICKET_FUNCTION = f"{SOLUTION_ID}-ASR-ServiceNow-TicketGenerator"
#: Remediations are spaced this many seconds apart per account and Region.
REMEDIATION_WAIT_SECONDS = 3
ORCHESTRATOR_TIMEOUT_MINUTES = 90
#: Alarm on remediation jobs the worker gave up on (their executions wait for the timeout).
SCHEDULING_DLQ_ALARM = "ASR-SchedulingDeadLetters"

# --- remediation history (docs/history.md) ---------------------------------------
#: Table of every remediation attempt (admin account): key HISTORY_KEY, indexes by control and by day.
HISTORY_TABLE = f"{SOLUTION_ID}-ASR-RemediationHistory"
HISTORY_KEY = "RecordId"
HISTORY_BY_CONTROL_INDEX = "ByControl"
HISTORY_BY_DAY_INDEX = "ByDay"
HISTORY_TTL_ATTRIBUTE = "ExpiresAt"
#: Admin stack parameter: days a record is kept (DynamoDB TTL), and its bounds.
HISTORY_RETENTION_PARAMETER = "RemediationHistoryRetentionDays"
HISTORY_RETENTION_DEFAULT_DAYS = 365
HISTORY_RETENTION_MAX_DAYS = 3650
#: 1..3650, a whole number without leading zeros (CloudFormation AllowedPattern, anchored by the engine).
HISTORY_RETENTION_PATTERN = r"^([1-9][0-9]{0,2}|[1-2][0-9]{3}|3[0-5][0-9]{2}|36[0-4][0-9]|3650)$"
#: Environment of the orchestrator functions naming the table and the retention.
HISTORY_TABLE_ENV = "HISTORY_TABLE"
HISTORY_RETENTION_ENV = "HISTORY_RETENTION_DAYS"
# --- remediation policy (docs/policy.md) --------------------------------------------
#: Admin stack parameters naming the policy object ``asr policy apply`` writes (blank: no policy,
#: ASR remediates as configured); the orchestrator reads its compiled form ``<key>.json``.
POLICY_BUCKET_PARAMETER = "RemediationPolicyBucket"
POLICY_KEY_PARAMETER = "RemediationPolicyKey"
#: The compiled policy (normalized JSON the orchestrator reads): ``<key>`` + this suffix.
POLICY_COMPILED_SUFFIX = ".json"
#: S3 bucket names: 3-63 of a-z 0-9 . - (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html);
#: object keys: up to 1,024 bytes (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html),
#: less the compiled suffix.
POLICY_BUCKET_PATTERN = r"^$|^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
POLICY_KEY_PATTERN = r"^$|^[^\s].{0,1014}$"
#: Environment of the resolve function naming the policy object (blank: no policy).
POLICY_BUCKET_ENV = "POLICY_BUCKET"
POLICY_KEY_ENV = "POLICY_KEY"
#: Seconds a warm resolve function keeps the policy it read before reading it again.
POLICY_CACHE_SECONDS = 60
# --- remediation deadlines (docs/policy.md, "Deadlines") ------------------------------
#: Table (admin account, only with a policy) of the findings ASR acted on under a policy deadline:
#: key DEADLINE_KEY (a hash of the finding Id), sparse index DEADLINE_PENDING_INDEX (the pending
#: ones by DueAt), TTL DEADLINE_TTL_ATTRIBUTE.
DEADLINE_TABLE = f"{SOLUTION_ID}-ASR-RemediationDeadlines"
DEADLINE_KEY = "FindingKey"
DEADLINE_PENDING_INDEX = "Pending"
DEADLINE_TTL_ATTRIBUTE = "ExpiresAt"
#: Days an item stays after its due time (pending) or after it was escalated or closed.
DEADLINE_RETENTION_DAYS = 90
#: Environment of the resolve and sweep functions naming the table (blank: no policy).
DEADLINE_TABLE_ENV = "DEADLINE_TABLE"
#: The function that escalates overdue findings, and the EventBridge rule that runs it.
DEADLINE_SWEEP_FUNCTION = f"{SOLUTION_ID}-ASR-DeadlineSweep"
DEADLINE_SWEEP_RULE = f"{SOLUTION_ID}-ASR-DeadlineSweepSchedule"
DEADLINE_SWEEP_MINUTES = 15

#: Metrics (METRICS_NAMESPACE): seconds from the finding's first sighting to a SUCCESS, per control
#: (DIMENSION_CONTROL_ID); a history record that could not be written (no dimension).
METRIC_TIME_TO_REMEDIATE = "TimeToRemediate"
METRIC_HISTORY_WRITE_FAILURE = "HistoryWriteFailure"
#: Metrics (no dimension): a deadline item resolve could not write; a due item the sweep could not handle.
METRIC_DEADLINE_WRITE_FAILURE = "DeadlineWriteFailure"
METRIC_DEADLINE_SWEEP_ERROR = "DeadlineSweepError"


def lambda_function_name(purpose: str) -> str:
    """``SO0111-ASR-<purpose>``, e.g. ``SO0111-ASR-checkSSMDocumentState``."""
    return f"{SOLUTION_ID}-ASR-{purpose}"


def management_events_bucket(namespace: str, account: str, region: str) -> str:
    """Action Log bucket; the Region keeps two Regions of one account apart
    (<= 59 characters with a 9-character namespace and the longest Region)."""
    return f"so0111-asr-{namespace}-mgmt-events-{account}-{region}"


# --- parameter constraints shared by stacks, runbooks and Lambdas ---------------

#: CloudFormation AllowedPattern / SSM allowedPattern strings (those engines anchor and are
#: ASCII-only). Python code never uses them with ``re.match``: it validates a value with the
#: compiled validators below (``re.ASCII`` + ``fullmatch``), so that neither a Unicode digit
#: (Arabic-Indic ``"\u0661" * 12``, ``"us-east-\u0661"``) nor a trailing newline gets through.
ACCOUNT_ID_PATTERN = r"^[0-9]{12}$"
NAMESPACE_PATTERN = (
    r"(?!(^xn--|^sthree-|^sthree-configurator|^amzn-s3-demo-|.+-s3alias|.+--ol-s3|.+.mrap|.+--x-s3$))"
    r"^[a-z0-9][a-z0-9-]{1,7}[a-z0-9]$"
)
ASSUME_ROLE_PATTERN = r"^arn:(?:aws|aws-us-gov|aws-cn):iam::\d{12}:role/[\w+=,.@-]+$"
TICKET_FUNCTION_PATTERN = r"^$|^([a-zA-Z0-9\-_]{1,64})?$"
TARGET_ACCOUNTS_PATTERN = r"^(ALL|\d{12}(,\s*\d{12})*)$"
REGION_PATTERN = r"^[a-z]{2}(?:-gov)?-[a-z]+-[0-9]$"


def validator(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled ASCII-only; use it with ``fullmatch`` (or ``is_full_match``)."""
    return re.compile(pattern, re.ASCII)


def is_full_match(pattern: re.Pattern[str], value: object) -> bool:
    """True when ``value`` is a str that ``pattern`` matches whole (no trailing newline)."""
    return isinstance(value, str) and pattern.fullmatch(value) is not None


ACCOUNT_ID = validator(ACCOUNT_ID_PATTERN)
REGION = validator(REGION_PATTERN)
