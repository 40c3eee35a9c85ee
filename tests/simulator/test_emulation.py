"""The moto extensions of asr.simulator.emulation: declared once, installed once, and in step with moto."""

from __future__ import annotations

import pytest

from asr.simulator import emulation


def test_install_is_idempotent_and_applies_every_declared_extension():
    first = emulation.install()
    assert emulation.install() == first
    for ext in first:
        assert getattr(ext.target, ext.name) is ext.function, f"{ext.target.__qualname__}.{ext.name} not installed"


def test_an_extension_moto_already_has_is_refused(monkeypatch):
    class Service:
        def describe(self):
            return "moto"

    monkeypatch.setattr(emulation, "_INSTALLED", False)
    monkeypatch.setattr(emulation, "_DECLARED", [])
    monkeypatch.setattr(emulation, "_load", lambda: list(emulation._DECLARED))

    @emulation.extends(Service)
    def describe(self):
        return "ours"

    with pytest.raises(RuntimeError, match=r"moto now has .*Service\.describe"):
        emulation.install()
    assert Service().describe() == "moto"


def test_a_replacement_of_a_method_moto_lost_is_refused(monkeypatch):
    class Service:
        pass

    monkeypatch.setattr(emulation, "_INSTALLED", False)
    monkeypatch.setattr(emulation, "_DECLARED", [])
    monkeypatch.setattr(emulation, "_load", lambda: list(emulation._DECLARED))

    @emulation.extends(Service, replaces=True)
    def describe(self):
        return "ours"

    with pytest.raises(RuntimeError, match=r"is gone from moto"):
        emulation.install()
    assert not hasattr(Service, "describe")
