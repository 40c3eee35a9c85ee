"""Seeders for the Amazon GuardDuty and Amazon Macie controls."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from asr.controls import Resource
from asr.simulator.seeds import Seeded, Where, seeder

# --------------------------------------------------------------------------- GuardDuty


def detectors(where: Where) -> Any:
    guardduty = where.client("guardduty")
    found = []
    for detector_id in sorted(guardduty.list_detectors()["DetectorIds"]):
        detector = guardduty.get_detector(DetectorId=detector_id)
        found.append(
            (
                detector_id,
                detector.get("Status"),
                detector.get("FindingPublishingFrequency"),
                sorted((f["Name"], f["Status"]) for f in detector.get("Features") or []),
                detector.get("Tags") or {},
            )
        )
    return found


def _account(where: Where, state: Any, *bystanders: Any) -> Seeded:
    return Seeded(
        resource=Resource.account_level(where.account, where.region, where.partition),
        state=state,
        bystanders=lambda: tuple(b() for b in bystanders),
    )


@seeder("GuardDuty.1")
def account_without_detector(where: Where) -> Seeded:
    """No GuardDuty detector in the Region."""
    return _account(where, lambda: detectors(where))


@seeder("GuardDuty.1", shape="suspended")
def account_with_suspended_detector(where: Where) -> Seeded:
    """A detector whose Status is DISABLED (suspended); its publishing frequency and tags must stay."""
    guardduty = where.client("guardduty")
    guardduty.create_detector(Enable=False, FindingPublishingFrequency="ONE_HOUR", Tags={"team": "secops"})

    def settings() -> Any:
        return [(d[0], d[2], d[4]) for d in detectors(where)]

    return _account(where, lambda: detectors(where), settings)


# GuardDuty.2 (filters) and GuardDuty.4 (detectors) have no seeder: their remediation, TagGuardDutyResource,
# reads and writes tags with ListTagsForResource and TagResource, which moto 5.2.5 does not implement for
# GuardDuty (tests/remediations/test_tag_guardduty_resource.py proves it with botocore's Stubber).


# --------------------------------------------------------------------------- Macie


def macie_status(where: Where) -> Any:
    try:
        session = where.client("macie2").get_macie_session()
    except ClientError as err:
        return err.response.get("Error", {}).get("Code")
    return session.get("status"), session.get("findingPublishingFrequency")


@seeder("Macie.1")
def account_without_macie(where: Where) -> Seeded:
    """Macie has never been enabled in the Region (moto starts every account with a session: it is removed)."""
    where.client("macie2").disable_macie()
    return _account(where, lambda: macie_status(where))


# No "paused" shape: resuming a paused Macie needs UpdateMacieSession, which moto 5.2.5 does not implement
# (tests/remediations/test_enable_macie.py proves that path with botocore's Stubber).
