#!/usr/bin/env python3
"""CDK app entry point: builds every stack of Automated Security Response on AWS.

``python app.py`` synthesizes into ./cdk.out (the CDK CLI sets $CDK_OUTDIR itself).
Context: ``-c solutions_bucket=<bucket base> -c solution_version=v1.2.3``.
"""

import os

from asr.app import build_app

build_app(outdir=os.environ.get("CDK_OUTDIR", "cdk.out")).app.synth()
