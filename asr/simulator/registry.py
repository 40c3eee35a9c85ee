"""Documents the runner can execute, by name."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from asr.simulator.document import load_content
from asr.simulator.errors import DocumentError, DocumentNotFoundError

AWS_DOCUMENTS_DIR = Path(__file__).resolve().parent / "aws_documents"


class DocumentRegistry:
    """A name -> document (dict) store, like the SSM documents of an account."""

    def __init__(self) -> None:
        self._documents: dict[str, dict[str, Any]] = {}

    def add(self, name: str, content: Mapping[str, Any] | str | bytes) -> None:
        """Add or replace a document given as a dict or as YAML/JSON text."""
        if not isinstance(name, str) or not name:
            raise DocumentError(f"document name must be a non-empty string, got {name!r}")
        self._documents[name] = load_content(content)

    def get(self, name: str) -> dict[str, Any]:
        try:
            return self._documents[name]
        except KeyError:
            raise DocumentNotFoundError(f"document {name!r} is not in the registry") from None

    def names(self) -> list[str]:
        return sorted(self._documents)

    def __contains__(self, name: object) -> bool:
        return name in self._documents

    def load_file(self, path: str | Path, name: str | None = None) -> str:
        """Add a YAML or JSON file; its name defaults to the file name without extension."""
        file = Path(path)
        document_name = name or file.stem
        self.add(document_name, file.read_text(encoding="utf-8"))
        return document_name

    def load_aws_documents(self) -> list[str]:
        """Add the local emulations of the AWS-owned documents the product calls."""
        return [self.load_file(path) for path in sorted(AWS_DOCUMENTS_DIR.glob("*.yaml"))]

    @classmethod
    def from_repo(cls, namespace: str = "sim") -> DocumentRegistry:
        """Every remediation runbook of the repo (rendered for ``namespace``) plus the AWS emulations."""
        from asr import documents

        registry = cls()
        for name in documents.remediation_runbook_names():
            registry.add(name, documents.render_remediation_runbook(name, namespace))
        registry.load_aws_documents()
        return registry
