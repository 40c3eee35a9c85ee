"""An eventually consistent IAM, for the read-back retries of the IAM remediations."""

from __future__ import annotations

import boto3


class Lagging:
    """An IAM client whose ``method`` answers, for ``lag`` calls after the first, what it answered first:
    IAM is eventually consistent, a change may not show at once."""

    def __init__(self, client, method: str, lag: int) -> None:
        self.client, self.method, self.lag, self.calls, self.first = client, method, lag, 0, None

    def __getattr__(self, name):
        real = getattr(self.client, name)
        if name != self.method:
            return real

        def call(**kwargs):
            self.calls += 1
            if 1 < self.calls <= 1 + self.lag:
                return self.first
            answer = real(**kwargs)
            if self.calls == 1:
                self.first = answer
            return answer

        return call


def lag(monkeypatch, method: str, calls: int) -> None:
    real = boto3.client
    monkeypatch.setattr(boto3, "client", lambda name, *a, **kw: (
        Lagging(real(name, *a, **kw), method, calls) if name == "iam" else real(name, *a, **kw)))
