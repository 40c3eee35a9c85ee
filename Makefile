# The two commands a newcomer needs:
#   make        install everything into .venv and build every template and Lambda zip
#   make test   run the whole test suite
# Options: make BUCKET=<bucket-base> VERSION=v2.4.0

PYTHON ?= python3
VENV ?= .venv
BUCKET ?= solutions
VERSION ?=

.PHONY: all install build test clean

all: build

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --upgrade --quiet pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

build: install
	VENV=$(VENV) deployment/build-s3-dist.sh -b $(BUCKET) $(if $(VERSION),-v $(VERSION))

test: install
	VENV=$(VENV) deployment/run-unit-tests.sh

clean:
	deployment/build-s3-dist.sh -c
	rm -rf cdk.out
