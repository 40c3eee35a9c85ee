"""Orchestrator runtime: the Lambda handlers behind state machine ``SO0111-ASR-Orchestrator``.

Handlers (``lambdas.orchestrator.<module>.lambda_handler``):

* ``resolve``  -- finding -> target (account, Region, runbook, role) or a final outcome;
* ``worker``   -- SQS task-token consumer: schedules, starts and monitors the automation;
* ``notify``   -- notifications for paths the state machine decides (errors, tickets).

Plain Python and boto3 only (no layer): ``finding`` is the one finding model,
``notifications`` the one notifier, ``outcomes`` the one list of outcomes.
"""
