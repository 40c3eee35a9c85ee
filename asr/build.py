"""Build the distributable: every template and every Lambda zip, reproducibly.

``python -m asr.build -b <bucket-base> -v <version>`` (what
``deployment/build-s3-dist.sh`` runs) writes

* ``deployment/global-s3-assets/``: the CloudFormation templates under their
  published names (upload to ``s3://<bucket-base>-reference/<solution>/<version>/``);
* ``deployment/regional-s3-assets/lambda/``: the Lambda zips (upload to
  ``s3://<bucket-base>-<region>/<solution>/<version>/lambda/``).

Two builds of the same commit produce byte-identical files: templates are written
as synthesized (CDK output is deterministic), and zips have sorted entries, fixed timestamps and fixed modes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from asr import solution
from asr.cdk_common import Distribution

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "deployment"
GLOBAL_ASSETS = "global-s3-assets"
REGIONAL_ASSETS = "regional-s3-assets"

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
#: handler imports ``asr.solution`` exactly as the stacks and tests do.
SHARED_FILES = ("asr/__init__.py", "asr/solution.py", "lambdas/__init__.py")


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
    files += [(name, REPO_ROOT / name) for name in SHARED_FILES]
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


def build(dist: Distribution, out: Path = DEFAULT_OUT) -> BuildReport:
    start = time.monotonic()
    global_dir, regional_dir = out / GLOBAL_ASSETS, out / REGIONAL_ASSETS
    for d in (global_dir, regional_dir):
        shutil.rmtree(d, ignore_errors=True)
    templates: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="asr-synth-") as tmp:
        for _stack, (source, published) in sorted(synthesize(dist, Path(tmp)).items()):
            templates[published] = write_template(source, global_dir / published)
    zips = [build_lambda_zip(p, regional_dir / solution.LAMBDA_ASSET_FOLDER) for p in lambda_packages()]
    return BuildReport(out, templates, zips, time.monotonic() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m asr.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("-b", "--bucket", default="solutions", help="bucket base name (default: solutions)")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
