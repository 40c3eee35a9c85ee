"""The actions the runner implements, by SSM action name."""

from __future__ import annotations

from asr.simulator.actions import api, automation, branch, control, script
from asr.simulator.actions.base import Action, ActionResult

ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        script.ACTION,
        api.EXECUTE_AWS_API,
        api.ASSERT_PROPERTY,
        api.WAIT_FOR_PROPERTY,
        api.CREATE_TAGS,
        branch.ACTION,
        automation.ACTION,
        control.SLEEP,
        control.APPROVE,
    )
}

__all__ = ["ACTIONS", "Action", "ActionResult"]
