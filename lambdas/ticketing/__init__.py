"""Ticket generators of the Jira and ServiceNow blueprint stacks.

``core`` holds what both share (the contract, input and instance-URI validation,
the credentials secret, one HTTP POST with timeouts, bounded retries and redirect
rules); ``jira`` and ``servicenow`` only build their product's request and read its
answer. Standard library and boto3 only, so the zip needs no layer.
"""
