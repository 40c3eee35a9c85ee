"""Control tests reuse the playbook tests' moto world (two accounts, two Regions, solution parameters)."""

from tests.playbooks.conftest import aws  # noqa: F401
