"""Build the distributable: every template and every Lambda zip, reproducibly.

``python -m asr.build -b <bucket-base> -v <version>`` (what
``deployment/build-s3-dist.sh`` runs) writes

* ``deployment/global-s3-assets/``: the CloudFormation templates under their
  published names (upload to ``s3://<bucket-base>-reference/<solution>/<version>/``);
* ``deployment/regional-s3-assets/lambda/``: the Lambda zips (upload to
  ``s3://<bucket-base>-<region>/<solution>/<version>/lambda/``);
* ``deployment/cdk.out/``: the synthesized cloud assembly, with the CDK's ``validation-report.json``
  (template validation and cdk-nag; any warning the build prints refers to it).

Without ``-b`` the templates name the placeholder bucket base ``amzn-s3-demo-bucket``, which no
account can own (``asr.solution.PLACEHOLDER_BUCKET_BASE``): build with your own to deploy.

Two builds of the same commit produce byte-identical files: templates are written
as synthesized (CDK output is deterministic), and zips have sorted entries, fixed timestamps and fixed modes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from asr import solution
from asr.cdk_common import Distribution

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "deployment"
GLOBAL_ASSETS = "global-s3-assets"
REGIONAL_ASSETS = "regional-s3-assets"
#: The synthesized cloud assembly, kept after the build (next to the assets) so that the
#: ``validation-report.json`` the CDK points to on a warning still exists.
SYNTH_DIR = "cdk.out"
VALIDATION_REPORT = "validation-report.json"

#: Every file of a zip gets this timestamp (the earliest a zip can hold).
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class LambdaPackage:
    """One Lambda zip: ``lambdas/<name>/`` plus the shared modules every function may import."""

    name: str

    @property
    def zip_name(self) -> str:
        return f"{self.name}.zip"


#: Modules bundled into every zip, at the same import paths as in the repo, so a
#: handler imports ``asr.solution`` (every name) and ``asr.limits`` (every AWS limit on what
#: it sends) exactly as the stacks and tests do.
SHARED_FILES = ("asr/__init__.py", "asr/solution.py", "asr/limits.py", "lambdas/__init__.py")
#: Modules one function needs beyond the shared ones. The orchestrator enforces the remediation
#: policy (lambdas/orchestrator/enforce.py) with asr.policy's standard-library path: the compiled
#: JSON read by ``Policy.from_json`` and ``decide``; PyYAML and jsonschema stay out of the zip.
PACKAGE_FILES = {
    "orchestrator": (
        "asr/policy/__init__.py",
        "asr/policy/document.py",
        "asr/policy/evaluate.py",
        "asr/policy/orgs.py",  # OU scopes: ListParents, cached per warm container
    ),
    # the two custom resources' response to CloudFormation
    "custom_action": ("lambdas/cfn_response.py",),
    "org_lookup": ("lambdas/cfn_response.py",),
}


def lambda_packages() -> list[LambdaPackage]:
    root = REPO_ROOT / "lambdas"
    return [
        LambdaPackage(p.name)
        for p in sorted(root.iterdir())
        if p.is_dir() and (p / "__init__.py").is_file() and not p.name.startswith(("_", "."))
    ]


def _zip_files(target: Path, files: list[tuple[str, Path]]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for arcname, path in sorted(files):
            info = zipfile.ZipInfo(arcname, date_time=ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())


def build_lambda_zip(package: LambdaPackage, out_dir: Path) -> Path:
    source = REPO_ROOT / "lambdas" / package.name
    files = [
        (p.relative_to(REPO_ROOT).as_posix(), p)
        for p in source.rglob("*.py")
        if "__pycache__" not in p.parts and "tests" not in p.parts
    ]
    files += [(name, REPO_ROOT / name) for name in (*SHARED_FILES, *PACKAGE_FILES.get(package.name, ()))]
    target = out_dir / package.zip_name
    _zip_files(target, files)
    return target


def write_template(source: Path, target: Path) -> dict:
    """Publish a synthesized template as it is (CDK's key order reads best)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return json.loads(target.read_text(encoding="utf-8"))


@dataclass
class BuildReport:
    out: Path
    templates: dict[str, dict]  # published path -> template
    zips: list[Path]
    seconds: float
    #: template-validation and cdk-nag findings left unacknowledged ("<plugin> <rule> <construct>: <text>")
    validation_warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        sizes = {path: (self.out / GLOBAL_ASSETS / path).stat().st_size for path in self.templates}
        resources = {path: len(t.get("Resources", {})) for path, t in self.templates.items()}
        largest = max(sizes, key=sizes.get)
        most = max(resources, key=resources.get)
        return (
            f"{len(self.templates)} templates, {sum(resources.values())} resources in all; "
            f"largest {largest} ({sizes[largest]:,} bytes); most resources {most} ({resources[most]}); "
            f"{len(self.zips)} Lambda zip(s); {self.seconds:.1f} s"
        )


def synthesize(dist: Distribution, workdir: Path) -> dict[str, tuple[Path, str]]:
    """Synthesize the app into ``workdir``; stack name -> (template.json, published path)."""
    from asr.app import build_app  # CDK import only when synthesizing

    built = build_app(outdir=str(workdir), dist=dist)
    built.app.synth()
    return {name: (workdir / f"{name}.template.json", path) for name, path in built.templates.items()}


def unacknowledged(report: Path) -> list[str]:
    """The findings of a CDK ``validation-report.json`` that no acknowledgment covers."""
    if not report.is_file():
        return []
    found = []
    for plugin in json.loads(report.read_text(encoding="utf-8")).get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs") or [{}]:
                found.append(
                    f"{plugin.get('pluginName')} {violation.get('ruleName')} {construct.get('constructPath', '?')}: "
                    f"{violation.get('description', '')}"
                )
    return found


def build(dist: Distribution, out: Path = DEFAULT_OUT) -> BuildReport:
    start = time.monotonic()
    global_dir, regional_dir, synth_dir = out / GLOBAL_ASSETS, out / REGIONAL_ASSETS, out / SYNTH_DIR
    for d in (global_dir, regional_dir, synth_dir):
        shutil.rmtree(d, ignore_errors=True)
    templates: dict[str, dict] = {}
    for _stack, (source, published) in sorted(synthesize(dist, synth_dir).items()):
        templates[published] = write_template(source, global_dir / published)
    zips = [build_lambda_zip(p, regional_dir / solution.LAMBDA_ASSET_FOLDER) for p in lambda_packages()]
    warnings = unacknowledged(synth_dir / VALIDATION_REPORT)
    return BuildReport(out, templates, zips, time.monotonic() - start, warnings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m asr.build", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-b",
        "--bucket",
        default=solution.PLACEHOLDER_BUCKET_BASE,
        help=f"bucket base name (default: {solution.PLACEHOLDER_BUCKET_BASE}, a placeholder no one owns)",
    )
    parser.add_argument("-v", "--version", default=solution.VERSION, help=f"version (default: {solution.VERSION})")
    parser.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT, help="output folder (default: deployment/)")
    parser.add_argument("-t", "--dev", action="store_true", help="development build: solution id DEV-SO0111")
    args = parser.parse_args(argv)
    version = args.version if args.version.startswith("v") else f"v{args.version}"
    try:
        dist = Distribution(
            bucket_base=args.bucket,
            version=version,
            solution_id=f"DEV-{solution.SOLUTION_ID}" if args.dev else solution.SOLUTION_ID,
        )
    except ValueError as err:
        parser.error(str(err))
    report = build(dist, args.out)
    print(f"built into {args.out}: {report.summary()}")
    if dist.bucket_base == solution.PLACEHOLDER_BUCKET_BASE:
        print(
            f"templates name the placeholder bucket base {dist.bucket_base} (no one's buckets); "
            "to deploy, build with your own: make BUCKET=<bucket-base> (docs/deploy.md)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
