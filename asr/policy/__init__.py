"""The remediation policy (issue 18): which findings ASR remediates, how, and which it leaves alone.

* ``asr.policy.document``: the YAML document, its JSON Schema (``schema.json``) and checks;
* ``asr.policy.evaluate``: ``decide(policy, facts, *, now, ou_resolver, tags)`` -> Decision;
* ``asr.policy.facts``: FindingFacts of a finding, read by ``asr.explain``;
* ``asr.policy.orgs``: the OUs of an account through AWS Organizations, cached;
* ``asr.policy.store``: the policy as a versioned S3 object in the admin account;
* ``asr.policy.cli``: ``asr policy validate|show|diff|check|apply``.

docs/policy.md explains the document and the precedence.
"""

from asr.policy.document import Policy, PolicyError, default_policy, load, loads
from asr.policy.evaluate import Decision, FindingFacts, decide

__all__ = ["Decision", "FindingFacts", "Policy", "PolicyError", "decide", "default_policy", "load", "loads"]
