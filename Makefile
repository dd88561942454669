# DogeOS image builder. `make deps` once, then `make image` or `make demo`;
# `make test` runs lint, typecheck and the whole test suite.
SHELL := /bin/bash
DOGEOS := node bin/dogeos.mjs
DEB_PACKAGES := $(shell grep -v '^\#' tools/debian-packages.txt)
DEMO_DIR := out/demo

.PHONY: deps deps-npm deps-debian test lint typecheck unit image demo bench repro fuzz reliability probe clean

deps: deps-debian deps-npm probe

deps-npm:
	npm ci --no-audit --no-fund

deps-debian:
	@if [ "$$(id -u)" = 0 ]; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q && apt-get install -y -q --no-install-recommends $(DEB_PACKAGES); \
	else \
	  echo "Not root: install the Debian packages with:"; \
	  echo "  sudo apt-get install --no-install-recommends $(DEB_PACKAGES)"; \
	  dpkg -s $(DEB_PACKAGES) >/dev/null 2>&1 || exit 69; \
	fi

probe:
	@if [ -f tools/probe-kernel/Makefile ]; then $(MAKE) -C tools/probe-kernel; fi

lint:
	npx biome lint build tools test

typecheck:
	npx tsc --noEmit -p tsconfig.json

unit:
	@mkdir -p test/.tmp
	@npx vitest run --reporter=default --reporter=json --outputFile.json=test/.tmp/vitest.json; rc=$$?; \
	  node tools/test-summary.mjs test/.tmp/vitest.json; exit $$rc

test: lint typecheck probe unit

image:
	$(DOGEOS) build

demo: probe
	$(DOGEOS) fixture release --out $(DEMO_DIR)/release --stamp 20250724T001011Z --profile small
	$(DOGEOS) build --config tools/demo/dogeos.yaml --explain
	$(DOGEOS) boot-test --config tools/demo/dogeos.yaml --matrix --accel tcg --junit $(DEMO_DIR)/boot-junit.xml

bench:
	node --import tsx tools/bench/bench.ts

repro:
	node --import tsx tools/repro.ts

fuzz:
	DOGEOS_FUZZ_RUNS=20000 npx vitest run test/fuzz

reliability:
	node --import tsx tools/reliability.ts

clean:
	rm -rf out .work test/.tmp
