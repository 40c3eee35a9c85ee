"""Amazon Athena: UpdateWorkGroup (moto 5.2 lacks it) and GetWorkGroup of a missing workgroup.

* UpdateWorkGroup -- https://docs.aws.amazon.com/athena/latest/APIReference/API_UpdateWorkGroup.html
  "Updates the workgroup with the specified name. The workgroup's name cannot be changed."
  Request: ``WorkGroup`` (required, ``[a-zA-Z0-9._-]{1,128}``), ``Description`` (0-1024
  characters), ``State`` (``ENABLED`` | ``DISABLED``), ``ConfigurationUpdates``
  (https://docs.aws.amazon.com/athena/latest/APIReference/API_WorkGroupConfigurationUpdates.html):
  each member given replaces that setting, each ``Remove*`` flag removes one; members not given
  keep their value. ``BytesScannedCutoffPerQuery`` is at least 10000000. The response is empty.
  Errors: ``InvalidRequestException`` ("something is wrong with the input to the request", which
  is also what Athena answers for a workgroup that does not exist).
* GetWorkGroup -- https://docs.aws.amazon.com/athena/latest/APIReference/API_GetWorkGroup.html
  a workgroup that does not exist is an ``InvalidRequestException``; moto answers
  ``{"WorkGroup": null}`` instead.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from moto.athena.models import AthenaBackend
from moto.athena.responses import AthenaResponse
from moto.core.exceptions import JsonRESTError

from asr.simulator.emulation import extends

_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,128}$")
_STATES = ("ENABLED", "DISABLED")
_MIN_CUTOFF = 10_000_000
_ENCRYPTION_OPTIONS = ("SSE_S3", "SSE_KMS", "CSE_KMS")
#: WorkGroupConfigurationUpdates members that replace the setting of the same name as given.
_PLAIN_SETTINGS = (
    "EnforceWorkGroupConfiguration",
    "PublishCloudWatchMetricsEnabled",
    "RequesterPaysEnabled",
    "EnableMinimumEncryptionConfiguration",
    "AdditionalConfiguration",
    "ExecutionRole",
    "QueryResultsS3AccessGrantsConfiguration",
    "ManagedQueryResultsConfiguration",
    "MonitoringConfiguration",
    "EngineConfiguration",
)
#: (setting, its Remove* flag) pairs of WorkGroupConfigurationUpdates.
_REMOVABLE = (
    ("BytesScannedCutoffPerQuery", "RemoveBytesScannedCutoffPerQuery"),
    ("CustomerContentEncryptionConfiguration", "RemoveCustomerContentEncryptionConfiguration"),
)
#: (setting, its Remove* flag) pairs of ResultConfigurationUpdates.
_RESULT_REMOVABLE = (
    ("OutputLocation", "RemoveOutputLocation"),
    ("EncryptionConfiguration", "RemoveEncryptionConfiguration"),
    ("ExpectedBucketOwner", "RemoveExpectedBucketOwner"),
    ("AclConfiguration", "RemoveAclConfiguration"),
)


class InvalidRequestException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidRequestException", message)


def _not_found(name: str) -> InvalidRequestException:
    return InvalidRequestException(f"WorkGroup {name} is not found.")


def _check_updates(updates: dict[str, Any]) -> None:
    cutoff = updates.get("BytesScannedCutoffPerQuery")
    if cutoff is not None and int(cutoff) < _MIN_CUTOFF:
        raise InvalidRequestException(
            f"BytesScannedCutoffPerQuery {cutoff} is below the minimum of {_MIN_CUTOFF} bytes"
        )
    for setting, flag in _REMOVABLE:
        if updates.get(flag) and setting in updates:
            raise InvalidRequestException(f"ConfigurationUpdates cannot both set {setting} and {flag}")
    result = updates.get("ResultConfigurationUpdates") or {}
    for setting, flag in _RESULT_REMOVABLE:
        if result.get(flag) and setting in result:
            raise InvalidRequestException(f"ResultConfigurationUpdates cannot both set {setting} and {flag}")
    option = (result.get("EncryptionConfiguration") or {}).get("EncryptionOption")
    if "EncryptionConfiguration" in result and option not in _ENCRYPTION_OPTIONS:
        raise InvalidRequestException(
            f"EncryptionConfiguration.EncryptionOption {option!r} is not one of {', '.join(_ENCRYPTION_OPTIONS)}"
        )


def _apply(configuration: dict[str, Any], updates: dict[str, Any]) -> None:
    for setting in _PLAIN_SETTINGS:
        if setting in updates:
            configuration[setting] = copy.deepcopy(updates[setting])
    for setting, flag in _REMOVABLE:
        if updates.get(flag):
            configuration.pop(setting, None)
        elif setting in updates:
            configuration[setting] = copy.deepcopy(updates[setting])
    if "EngineVersion" in updates:
        selected = (updates["EngineVersion"] or {}).get("SelectedEngineVersion")
        if selected:
            engine = configuration.setdefault("EngineVersion", {})
            engine["SelectedEngineVersion"] = selected
            engine["EffectiveEngineVersion"] = "Athena engine version 3" if selected == "AUTO" else selected
    if "ResultConfigurationUpdates" in updates:
        result_updates = updates["ResultConfigurationUpdates"] or {}
        result = configuration.setdefault("ResultConfiguration", {})
        for setting, flag in _RESULT_REMOVABLE:
            if result_updates.get(flag):
                result.pop(setting, None)
            elif setting in result_updates:
                result[setting] = copy.deepcopy(result_updates[setting])
        if not result:
            configuration.pop("ResultConfiguration")


@extends(AthenaBackend)
def update_work_group(
    self: AthenaBackend,
    name: str,
    description: str | None,
    configuration_updates: dict[str, Any] | None,
    state: str | None,
) -> None:
    """UpdateWorkGroup: validate everything first, then change the workgroup (all or nothing)."""
    if not name or not _NAME.match(name):
        raise InvalidRequestException(f"WorkGroup {name!r} does not match [a-zA-Z0-9._-]{{1,128}}")
    if description is not None and len(description) > 1024:
        raise InvalidRequestException(f"Description is {len(description)} characters long, more than 1024")
    if state is not None and state not in _STATES:
        raise InvalidRequestException(f"State {state!r} is not one of ENABLED, DISABLED")
    group = self.work_groups.get(name)
    if group is None:
        raise _not_found(name)
    updates = configuration_updates or {}
    _check_updates(updates)
    configuration = copy.deepcopy(group.configuration)
    _apply(configuration, updates)
    group.configuration = configuration
    if description is not None:
        group.description = description
    if state is not None:
        group.state = state  # instance attribute: moto's WorkGroup.state is a class-level "ENABLED"


@extends(AthenaResponse)
def update_work_group(self: AthenaResponse) -> str:  # noqa: F811 -- the response side of the same API
    self.athena_backend.update_work_group(
        self._get_param("WorkGroup"),
        self._get_param("Description"),
        self._get_param("ConfigurationUpdates"),
        self._get_param("State"),
    )
    return json.dumps({})


_moto_get_work_group = AthenaResponse.get_work_group


@extends(AthenaResponse, replaces=True)
def get_work_group(self: AthenaResponse) -> str:
    """GetWorkGroup: moto's answer, but a missing workgroup is an InvalidRequestException."""
    name = self._get_param("WorkGroup")
    if name not in self.athena_backend.work_groups:
        raise _not_found(name)
    return _moto_get_work_group(self)
