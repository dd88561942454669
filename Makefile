# DogeOS image builder. On a fresh clone `make image` (or `make demo`
# offline) builds and `make test` tests; each first brings what it needs
# (`make setup`: the Debian tools, node_modules, the probe kernel), skipping
# what is already current. `make deps` does the same explicitly.
SHELL := /bin/bash
DOGEOS := node bin/dogeos.mjs
DEMO_DIR := out/demo
# npm writes node_modules/.package-lock.json at the end of every install:
# missing (no node_modules) or older than package-lock.json means `npm ci`.
NPM_STAMP := node_modules/.package-lock.json
# Extra npm flags, e.g. NPM_FLAGS=--prefer-offline to install from the warm cache.
NPM_FLAGS ?=

.PHONY: deps setup deps-npm deps-debian test lint typecheck unit image demo bench repro repro-against fuzz reliability probe clean

deps: setup
setup: deps-debian deps-npm probe

deps-npm: $(NPM_STAMP)

$(NPM_STAMP): package-lock.json
	npm ci --no-audit --no-fund $(NPM_FLAGS)
	@touch $@

# Installs what is missing as root; otherwise prints the apt-get line and fails with 69.
deps-debian:
	@tools/deps-debian.sh tools/debian-packages.txt

probe:
	@if [ -f tools/probe-kernel/Makefile ]; then \
	  $(MAKE) -s -q -C tools/probe-kernel 2>/dev/null || $(MAKE) --no-print-directory -C tools/probe-kernel; fi

lint: deps-npm
	npx biome check build tools test
	npx depcruise build --config .dependency-cruiser.cjs --output-type err

typecheck: deps-npm
	npx tsc --noEmit -p tsconfig.json

unit: deps-npm
	@mkdir -p test/.tmp
	@npx vitest run --reporter=default --reporter=json --outputFile.json=test/.tmp/vitest.json; rc=$$?; \
	  node tools/test-summary.mjs test/.tmp/vitest.json; exit $$rc

test: setup lint typecheck unit

image: deps-debian deps-npm
	$(DOGEOS) build

demo: setup
	$(DOGEOS) fixture release --out $(DEMO_DIR)/release --stamp 20250724T001011Z --profile small
	$(DOGEOS) build --config tools/demo/dogeos.yaml --explain
	$(DOGEOS) boot-test --config tools/demo/dogeos.yaml --matrix --accel tcg --junit $(DEMO_DIR)/boot-junit.xml

bench: deps-npm
	node --import tsx tools/bench/bench.ts

repro: deps-npm
	node --import tsx tools/repro.ts

# Behaviour unchanged across a refactor: make repro-against REF=<commit>
repro-against: deps-npm
	node --import tsx tools/repro-against.ts $(REF)

fuzz: deps-npm
	DOGEOS_FUZZ_RUNS=20000 npx vitest run test/fuzz

reliability: deps-npm
	node --import tsx tools/reliability.ts

clean:
	rm -rf out .work test/.tmp
