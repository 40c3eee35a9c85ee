"""Every remediation that encrypts, proven in each RemediationKeyMode of the member stack (docs/encryption.md).

The member stack writes /Solutions/SO0111/CMK_REMEDIATION_ARN with RemediationKeyMode PerStack (its own
key ARN) or Existing (the key the user names, here by its alias ARN as the organization key is named);
with None (the default) the parameter does not exist. For each encrypting remediation's control and each
mode, the proof of tests/controls/test_before_after.py runs (seeded FAILED -> control runbook from a
finding, as the member role, real remediations, IAM enforcer -> PASSED -> second run changes nothing ->
bystanders unchanged), then what the remediation encrypted with is checked. Where a control demands a
customer managed key that mode None does not have (CloudTrail.2), or a topic's publishers cannot use the
AWS managed key (SNS.1 with AWS service publishers), the run must fail naming RemediationKeyMode and
change nothing.
"""

from __future__ import annotations

import contextlib
import json

import boto3
import pytest

from asr import solution
from asr.controls import Status
from asr.playbooks import data
from asr.simulator import seeds
from asr.simulator.execution import Status as Run
from tests.conftest import ACCOUNT, REGION
from tests.controls.test_before_after import _prove, _verdict
from tests.playbooks.harness import OTHER_REGION, client, finding_for, import_finding, real_registry, run_control

MODES = ("None", "Existing", "PerStack")
_SEED = seeds.seed  # the real seeder dispatch (patched below for the seeders that read the key)
ORG_ALIAS = f"alias/{solution.ORG_KMS_ALIAS}"
#: (control, shape) of every remediation that encrypts with the remediation key (grep CMK_REMEDIATION_ARN
#: in remediation_runbooks/), and SQS.1 whose SSE-SQS needs no key in any mode.
ENCRYPTING = [
    ("CloudTrail.1", "default"),  # CreateCloudTrailMultiRegionTrail: the trail's log files
    ("CloudTrail.2", "default"),  # EnableCloudTrailEncryption
    ("Config.1", "default"),  # EnableAWSConfig: its delivery topic
    ("SNS.1", "default"),  # EnableEncryptionForSNSTopic
    ("SNS.1", "service-publishers"),
    ("SQS.1", "default"),  # EnableEncryptionForSQSQueue
    ("EC2.6", "default"),  # EnableVPCFlowLogs: the flow-log group
    ("S3.11", "default"),  # EnableBucketEventNotifications: the events topic
    ("CloudWatch.1", "default"),  # CreateLogMetricFilterAndAlarm: the alarm topic
]
#: What mode None cannot do, and the refusal must say.
REFUSED_WITHOUT_KEY = {("CloudTrail.2", "default"), ("SNS.1", "service-publishers")}
#: Seeders that read CMK_REMEDIATION_ARN while seeding (a topic an earlier run made with the key, a key
#: policy): in modes None and Existing the key ARN they need is set only while seeding.
SEEDERS_READING_THE_KEY = {("SNS.1", "service-publishers"), ("CloudWatch.1", "default")}
#: The services the reference's member key admits (asr/member/stack.py), for the keys made here.
SERVICES = [
    "sns.amazonaws.com",
    "s3.amazonaws.com",
    "logs.amazonaws.com",
    f"logs.{REGION}.amazonaws.com",
    "cloudtrail.amazonaws.com",
    "cloudwatch.amazonaws.com",
]


def _key_policy() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Principal": {"Service": SERVICES},
                    "Action": [
                        "kms:Encrypt*",
                        "kms:Decrypt*",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    "Resource": "*",
                },
            ],
        }
    )


def _new_key() -> str:
    return client("kms").create_key(Description="ASR remediation key", Policy=_key_policy())["KeyMetadata"]["Arn"]


def _set_parameter(value: str | None) -> None:
    """CMK_REMEDIATION_ARN as the member stack leaves it in both Regions (the playbook world sets a fake
    one); ``None``: no parameter, RemediationKeyMode None."""
    for region in (REGION, OTHER_REGION):
        ssm = client("ssm", ACCOUNT, region)
        if value is None:
            with contextlib.suppress(ssm.exceptions.ParameterNotFound):
                ssm.delete_parameter(Name=solution.SSM_CMK_REMEDIATION_ARN)
        else:
            ssm.put_parameter(Name=solution.SSM_CMK_REMEDIATION_ARN, Value=value, Type="String", Overwrite=True)


class KeyWorld:
    """The member account in one RemediationKeyMode: ``parameter`` is CMK_REMEDIATION_ARN (None: absent),
    ``key_arn`` the key it names (resolved), ``session`` the caller's session."""

    def __init__(self, mode: str) -> None:
        self.mode, self.session = mode, boto3.Session()
        self.key_arn = self.parameter = None
        if mode == "PerStack":
            self.key_arn = self.parameter = _new_key()
        elif mode == "Existing":
            # A key the user already has (e.g. one organization key per Region), named by its alias ARN.
            self.key_arn = _new_key()
            client("kms").create_alias(AliasName=ORG_ALIAS, TargetKeyId=self.key_arn)
            self.parameter = f"arn:aws:kms:{REGION}:{ACCOUNT}:{ORG_ALIAS}"
        _set_parameter(self.parameter)

    def seed(self, sc: str, shape: str) -> seeds.Seeded:
        if self.mode != "PerStack" and (sc, shape) in SEEDERS_READING_THE_KEY:
            # Mode None: a key only while seeding. Existing: the seeder calls PutKeyPolicy, which takes a
            # key ARN, not the alias ARN the parameter holds.
            _set_parameter(self.key_arn or _new_key())
            try:
                return _SEED(sc, self.session, ACCOUNT, REGION, shape=shape)
            finally:
                _set_parameter(self.parameter)
        return _SEED(sc, self.session, ACCOUNT, REGION, shape=shape)


@pytest.fixture(params=MODES)
def world(request, aws) -> KeyWorld:
    return KeyWorld(request.param)


def _prove_refused(world: KeyWorld, sc: str, shape: str) -> None:
    """The minimal sequence of test_before_after's refusal proof: FAILED before, the run fails naming the
    setting, nothing changed."""
    std = data.load_standard("SC")
    seeded = world.seed(sc, shape)
    before = _verdict(world.session, sc, seeded)
    assert before[0] is Status.FAILED, before
    state, bystanders = seeded.state(), seeded.bystanders()
    finding = finding_for(
        std, sc, seeded.resource.id, resource_type=seeded.resource.type, account=ACCOUNT, region=REGION
    )
    import_finding(finding)
    _, run = run_control(real_registry(), std, sc, finding)
    assert run.status is Run.FAILED, f"{sc}/{shape} ran without a customer managed key: {run.status}"
    assert "RemediationKeyMode" in (run.failure_message or ""), run.failure_message
    assert seeded.state() == state, "the refused run changed the resource"
    assert seeded.bystanders() == bystanders, "the refused run changed what it must not touch"
    assert _verdict(world.session, sc, seeded) == before


def _encryption_used(world: KeyWorld, sc: str, shape: str) -> list[str | None]:
    """The key each resource the remediation created or encrypted ended up with (None: no customer key)."""
    if sc == "SNS.1":
        sns = client("sns")
        name = ":seeded-sns1" if shape == "default" else ":seeded-sns1-services"
        arn = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(name))
        return [sns.get_topic_attributes(TopicArn=arn)["Attributes"].get("KmsMasterKeyId")]
    if sc == "EC2.6":
        groups = client("logs").describe_log_groups(logGroupNamePrefix="VPCFlowLogs/")["logGroups"]
        return [g.get("kmsKeyId") for g in groups]
    if sc == "CloudTrail.1":
        trails = client("cloudtrail").describe_trails()["trailList"]
        return [t.get("KmsKeyId") for t in trails if t["Name"] == "multi-region-cloud-trail"]
    if sc == "S3.11":
        sns = client("sns")
        topics = [t["TopicArn"] for t in sns.list_topics()["Topics"] if ":SO0111-" in t["TopicArn"]]
        return [sns.get_topic_attributes(TopicArn=t)["Attributes"].get("KmsMasterKeyId") for t in topics]
    if sc == "Config.1":
        sns = client("sns")
        topics = [t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith("AWSConfigNotification")]
        return [sns.get_topic_attributes(TopicArn=t)["Attributes"].get("KmsMasterKeyId") for t in topics]
    if sc == "CloudTrail.2":
        trails = client("cloudtrail").describe_trails()["trailList"]
        return [t.get("KmsKeyId") for t in trails if t["Name"] == "seeded-ct-2-target"]
    return []


@pytest.mark.parametrize(("sc", "shape"), ENCRYPTING, ids=[f"{c}-{s}" for c, s in ENCRYPTING])
def test_encrypting_remediation_in_each_key_mode(world, sc, shape):
    if world.mode == "Existing" and shape == "service-publishers":
        # This seeder's bystander reads the topic's key policy with GetKeyPolicy, which takes a key ARN,
        # never an alias: the existing key is named by its key ARN here (also a valid RemediationKeyArn).
        world.parameter = world.key_arn
        _set_parameter(world.parameter)
    if world.mode == "None" and (sc, shape) in REFUSED_WITHOUT_KEY:
        _prove_refused(world, sc, shape)
        return
    if (sc, shape) in SEEDERS_READING_THE_KEY and world.mode != "PerStack":
        # The seeder needs a key while seeding only; the proof then runs without the parameter.
        def seed(control, session, account, region, shape="default"):
            return (
                world.seed(control, shape)
                if (control, shape) == (sc, shape)
                else _SEED(control, session, account, region, shape=shape)
            )

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(seeds, "seed", seed)
            _prove(world.session, "SC", sc, sc, shape)
    else:
        _prove(world.session, "SC", sc, sc, shape)
    used = _encryption_used(world, sc, shape)
    if sc == "SNS.1":
        expected = {
            "None": f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/sns",
            "Existing": world.parameter,
            "PerStack": world.key_arn,
        }[world.mode]
        assert used == [expected]
    elif sc == "EC2.6":
        # CloudWatch Logs takes a key ARN: the alias of mode Existing is resolved; mode None uses the
        # service's own encryption (no kmsKeyId).
        assert used == [world.key_arn]
    elif sc in ("CloudTrail.1", "S3.11", "Config.1", "CloudTrail.2") and used:
        assert set(used) == {world.parameter if sc != "CloudTrail.2" else world.key_arn}, used
    assert not client("ssm").get_parameters(Names=[solution.SSM_CMK_REMEDIATION_ARN])["Parameters"] or (
        world.mode != "None"
    ), "a run wrote CMK_REMEDIATION_ARN in mode None"


def test_mode_none_creates_no_kms_key_in_the_account(aws):
    """With the parameter absent, the remediations that only need a key when they create something
    create nothing with KMS: no customer managed key appears in the account (the AWS managed key of SNS
    is AWS's, at no charge)."""
    world = KeyWorld("None")
    for sc, shape in [("CloudTrail.1", "default"), ("EC2.6", "default"), ("S3.11", "default"), ("SNS.1", "default")]:
        _prove(world.session, "SC", sc, sc, shape)
    kms = client("kms")
    managers = [kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyManager"] for k in kms.list_keys()["Keys"]]
    assert managers.count("CUSTOMER") == 0, managers
    assert "AWS" in managers  # alias/aws/sns, made by DescribeKey for SNS.1
