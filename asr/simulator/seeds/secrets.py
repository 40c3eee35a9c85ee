"""Seeder for SecretsManager.3 (unused secrets); the other Secrets Manager controls are in messaging.py.

The remediation only schedules the secret's deletion (a 30-day recovery window). Until the deletion
date the secret exists, unused, and the control judges it FAILED (asr/controls/secretsmanager.py
explains why): ``pending`` reads back the deletion date the remediation's output must name.
"""

from __future__ import annotations

import time
from datetime import UTC
from typing import Any

from asr.controls import Resource
from asr.simulator.seeds import Seeded, Where, seeder

DAY = 86400


def _created_days_ago(where: Where, name: str, days: int) -> None:
    """moto's API never lets a caller set CreatedDate: move it back in moto's backend."""
    from moto.secretsmanager.models import secretsmanager_backends

    secretsmanager_backends[where.account][where.region].secrets[name].created_date = int(time.time()) - days * DAY


@seeder("SecretsManager.3")
def secret_never_read(where: Where) -> Seeded:
    """A secret created 120 days ago and never read (the control counts from CreatedDate; unusedForDays
    defaults to 90); a second such secret is the bystander and must stay."""
    sm = where.client("secretsmanager")
    tags = [{"Key": "team", "Value": "payments"}]
    arn = sm.create_secret(Name="seeded-sm3", SecretString="old-token", Description="legacy API token", Tags=tags)[
        "ARN"
    ]
    other = sm.create_secret(Name="seeded-sm3-bystander", SecretString="other-token", Tags=tags)["ARN"]
    for name in ("seeded-sm3", "seeded-sm3-bystander"):
        _created_days_ago(where, name, 120)

    def described(secret: str) -> dict[str, Any]:
        return sm.describe_secret(SecretId=secret)

    def kept(secret: str) -> dict[str, Any]:
        found = described(secret)
        return {key: found.get(key) for key in ("Name", "Description", "Tags", "KmsKeyId", "CreatedDate")}

    def deletion() -> str:
        scheduled = described(arn).get("DeletedDate")
        return scheduled.astimezone(UTC).date().isoformat() if scheduled else "<no DeletedDate: not scheduled>"

    def exists() -> bool:
        try:
            described(arn)
        except sm.exceptions.ResourceNotFoundException:
            return False
        return True

    return Seeded(
        resource=Resource.of_arn(arn, "AwsSecretsManagerSecret"),
        state=lambda: {"DeletedDate": described(arn).get("DeletedDate")},
        bystanders=lambda: (
            kept(arn),
            kept(other),
            described(other).get("DeletedDate"),
            sm.get_secret_value(SecretId=other)["SecretString"],
        ),
        replaced_by=lambda: None,  # nothing replaces a deleted secret
        exists=exists,
        pending=lambda: f"scheduled for deletion on {deletion()}",
    )
