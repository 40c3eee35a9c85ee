# The two commands a newcomer needs:
#   make        install everything into .venv and build every template and Lambda zip
#   make test   run the whole test suite
# Options: make BUCKET=<bucket-base> VERSION=v2.4.0
#   BUCKET: your buckets <bucket-base>-reference and <bucket-base>-<region> (docs/deploy.md). Without it the
#   templates name the placeholder amzn-s3-demo-bucket, which S3 reserves: they point at no one's buckets.

PYTHON ?= python3
VENV ?= .venv
BUCKET ?=
VERSION ?=

# setuptools warns on every editable install of a project whose packages sit at the repository root
# ("be careful with folders ... with the same name as your package"): nothing a user can act on.
QUIET_EDITABLE = PYTHONWARNINGS="ignore:Editable installation:UserWarning"

.PHONY: all install build test clean

all: build

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --upgrade --quiet pip
	$(QUIET_EDITABLE) $(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

build: install
	VENV=$(VENV) deployment/build-s3-dist.sh $(if $(BUCKET),-b $(BUCKET)) $(if $(VERSION),-v $(VERSION))

test: install
	VENV=$(VENV) deployment/run-unit-tests.sh

clean:
	deployment/build-s3-dist.sh -c
	rm -rf cdk.out
