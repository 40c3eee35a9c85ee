"""The whole ASR flow on emulated AWS: our synthesized templates deployed on moto, the orchestrator's
state machine run by moto's interpreter, our Lambda handlers in-process, SSM Automation by the local
runner. Used by ``asr simulate`` and by the end-to-end tests (tests/orchestrator).

    with Patches() as patches, emulated_aws(patches):
        world = Orchestration(patches, namespace="sim")
        world.deploy_playbook("SC")
        world.deploy_member(MEMBER)
        ...
        result = world.run(custom_action_event([finding]))

Nothing here depends on pytest: ``Patches`` applies the moto patches and undoes them; a test may
pass its ``monkeypatch`` instead.
"""

from asr.simulator.orchestration.patches import (
    AutomationRouter,
    Invocation,
    LambdaDispatcher,
    Patcher,
    Patches,
    batch_update_findings,
    check_moto,
    install_all,
    record_retry_waits,
    send_task_failure,
    strict_member_role,
)
from asr.simulator.orchestration.world import (
    ADMIN,
    AFSBP,
    MEMBER,
    REGION,
    SC,
    TICKET_FUNCTION,
    Deployment,
    Orchestration,
    Result,
    admin_template,
    emulated_aws,
    machine_definition,
    ticket_handler,
)

__all__ = [
    "ADMIN",
    "AFSBP",
    "MEMBER",
    "REGION",
    "SC",
    "TICKET_FUNCTION",
    "AutomationRouter",
    "Deployment",
    "Invocation",
    "LambdaDispatcher",
    "Orchestration",
    "Patcher",
    "Patches",
    "Result",
    "admin_template",
    "batch_update_findings",
    "check_moto",
    "emulated_aws",
    "install_all",
    "machine_definition",
    "record_retry_waits",
    "send_task_failure",
    "strict_member_role",
    "ticket_handler",
]
