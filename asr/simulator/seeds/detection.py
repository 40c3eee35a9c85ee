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


# GuardDuty.2 (filters) and GuardDuty.4 (detectors): seeded at the end of this module (their remediation's
# TagResource / ListTagsForResource come from asr/simulator/emulation/guardduty.py).


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


# --------------------------------------------------------------------------- GuardDuty tags (GuardDuty.2, .4)

_CRITERIA = {"Criterion": {"severity": {"Lt": 4}, "type": {"Eq": ["Recon:EC2/PortProbeUnprotectedPort"]}}}


def _detector_arn(where: Where, detector_id: str) -> str:
    return f"arn:{where.partition}:guardduty:{where.region}:{where.account}:detector/{detector_id}"


def _filter_settings(guardduty: Any, detector_id: str, name: str) -> dict[str, Any]:
    found = guardduty.get_filter(DetectorId=detector_id, FilterName=name)
    return {k: found.get(k) for k in ("Name", "Action", "Description", "Rank", "FindingCriteria", "Tags")}


def _detector_settings(guardduty: Any, detector_id: str) -> dict[str, Any]:
    found = guardduty.get_detector(DetectorId=detector_id)
    return {k: found.get(k) for k in ("Status", "FindingPublishingFrequency", "Features", "Tags")}


def _without_tags(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in settings.items() if k != "Tags"}


@seeder("GuardDuty.2")
def untagged_filter(where: Where) -> Seeded:
    """A suppression filter (ARCHIVE, rank 1) without any tag, under a tagged detector; another untagged
    filter of the same detector must stay untagged, the detector's tags and settings as they were."""
    guardduty = where.client("guardduty")
    settings = {"Enable": True, "FindingPublishingFrequency": "ONE_HOUR", "Tags": {"team": "secops"}}
    detector = guardduty.create_detector(**settings)["DetectorId"]
    for name, rank in (("seeded-gd2", 1), ("seeded-gd2-bystander", 2)):
        guardduty.create_filter(
            DetectorId=detector,
            Name=name,
            Action="ARCHIVE",
            Rank=rank,
            Description="suppress low-severity port probes",
            FindingCriteria=_CRITERIA,
        )
    return Seeded(
        resource=Resource.of_arn(f"{_detector_arn(where, detector)}/filter/seeded-gd2", "AwsGuardDutyFilter"),
        state=lambda: _filter_settings(guardduty, detector, "seeded-gd2")["Tags"],
        bystanders=lambda: (
            _without_tags(_filter_settings(guardduty, detector, "seeded-gd2")),
            _filter_settings(guardduty, detector, "seeded-gd2-bystander"),
            _detector_settings(guardduty, detector),
        ),
    )


@seeder("GuardDuty.4")
def untagged_detector(where: Where) -> Seeded:
    """The Region's detector (GuardDuty allows one per account and Region) without any tag; its settings
    and its tagged filter must stay as they were."""
    guardduty = where.client("guardduty")
    detector = guardduty.create_detector(Enable=True, FindingPublishingFrequency="FIFTEEN_MINUTES")["DetectorId"]
    guardduty.create_filter(
        DetectorId=detector,
        Name="seeded-gd4-filter",
        Action="NOOP",
        Rank=1,
        FindingCriteria=_CRITERIA,
        Tags={"owner": "secops"},
    )
    return Seeded(
        resource=Resource.of_arn(_detector_arn(where, detector), "AwsGuardDutyDetector"),
        state=lambda: _detector_settings(guardduty, detector)["Tags"],
        bystanders=lambda: (
            _without_tags(_detector_settings(guardduty, detector)),
            _filter_settings(guardduty, detector, "seeded-gd4-filter"),
        ),
    )
