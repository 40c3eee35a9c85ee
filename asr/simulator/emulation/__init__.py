"""What AWS does and moto 5.2 does not: added to moto, explicitly, for the simulator.

Each module here closes one service's gaps (an API moto lacks, an attribute it drops) by
adding a method to moto's classes with ``@extends(MotoClass)``. ``install()`` applies every
module once per process; ``installed()`` lists what was added, so a test can prove each
extension exists, behaves as the AWS API reference says (the module cites the page), and
that moto did not grow the same name meanwhile (then the extension must go).

Only behaviour AWS documents is added; nothing here knows about our remediations.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Extension", "extends", "install", "installed"]


@dataclass(frozen=True)
class Extension:
    target: type
    name: str
    function: Callable[..., Any]
    replaces: bool  # True: replaces a moto method that drops or mishandles something


_DECLARED: list[Extension] = []
_INSTALLED = False


def extends(target: type, *, replaces: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare ``function`` as ``target.<function name>``.

    ``replaces=False`` (an API moto lacks): installing fails if moto already has the name —
    moto caught up, delete the extension. ``replaces=True``: moto's method must exist.
    """

    def declare(function: Callable[..., Any]) -> Callable[..., Any]:
        _DECLARED.append(Extension(target, function.__name__, function, replaces))
        return function

    return declare


def _load() -> list[Extension]:
    import asr.simulator.emulation as package

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")
    return list(_DECLARED)


def install() -> list[Extension]:
    """Apply every extension to moto (idempotent)."""
    global _INSTALLED
    extensions = _load()
    if _INSTALLED:
        return extensions
    for ext in extensions:
        present = ext.name in vars(ext.target)
        if ext.replaces and not present:
            raise RuntimeError(
                f"{ext.target.__qualname__}.{ext.name} is gone from moto: update {ext.function.__module__}"
            )
        if not ext.replaces and present:
            raise RuntimeError(
                f"moto now has {ext.target.__qualname__}.{ext.name}: remove the extension in {ext.function.__module__}"
            )
    for ext in extensions:
        setattr(ext.target, ext.name, ext.function)
    _INSTALLED = True
    return extensions


def installed() -> list[Extension]:
    return list(_DECLARED) if _INSTALLED else []
