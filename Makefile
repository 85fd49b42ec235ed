# The test command of the README is `make test`. It installs the Debian
# packages the interop tests drive (Python websockets, Chromium) and the
# checkers of deploy/ (systemd-analyze, PyYAML) when they are missing, and
# runs the tests with MYRIAD_REQUIRE_INTEROP=1 so those tests fail rather
# than skip if a client cannot be run.

GO ?= go
DEBIAN_PACKAGES := python3-websockets chromium systemd python3-yaml

.PHONY: test deps vet build fuzz bench bench-quick bench-codec million hardening

test: deps vet
	MYRIAD_REQUIRE_INTEROP=1 $(GO) test -race -count=1 -timeout 45m ./...

vet:
	$(GO) vet ./...

deps:
	@missing=""; \
	/usr/bin/python3 -c 'import websockets' 2>/dev/null || missing="$$missing python3-websockets"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v systemd-analyze >/dev/null || missing="$$missing systemd"; \
	/usr/bin/python3 -c 'import yaml' 2>/dev/null || missing="$$missing python3-yaml"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo=sudo; fi; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build:
	$(GO) build -o bin/ ./cmd/...

# Short fuzzing runs of every parser (the seed corpora run in `make test`).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseHeader$$' -fuzztime 30s ./frame/
	$(GO) test -run '^$$' -fuzz '^FuzzUTF8$$' -fuzztime 30s ./frame/
	$(GO) test -run '^$$' -fuzz '^FuzzParseClose$$' -fuzztime 30s ./frame/
	$(GO) test -run '^$$' -fuzz '^FuzzAppendClose$$' -fuzztime 30s ./frame/
	$(GO) test -run '^$$' -fuzz '^FuzzReadHead$$' -fuzztime 30s ./handshake/
	$(GO) test -run '^$$' -fuzz '^FuzzNegotiateDeflate$$' -fuzztime 30s ./handshake/
	$(GO) test -run '^$$' -fuzz '^FuzzReadResponse$$' -fuzztime 30s ./handshake/
	$(GO) test -run '^$$' -fuzz '^FuzzReadFrames$$' -fuzztime 30s ./server/

# The side-by-side benchmark against the Go peers (nbio, gws, gorilla):
# builds everything, then a few minutes of interleaved rounds. Run it on a
# quiet machine; BENCHFLAGS passes flags (--rounds 5, --conns 10000, ...).
bench:
	$(GO) run ./bench/cmd/bench $(BENCHFLAGS)

# The same at smoke size (500 connections, one round): proves the harness,
# measures nothing worth quoting.
bench-quick:
	$(GO) run ./bench/cmd/bench --quick $(BENCHFLAGS)

# Go benchmarks of the codec and of the reactor's per-message and publish
# paths, -benchmem (0 allocs/op on the hot path).
bench-codec:
	$(GO) test -run '^$$' -bench . -benchmem ./frame/ ./handshake/
	$(GO) test -run '^$$' -bench '^Benchmark(Message|Fanout)$$' -benchmem ./server/

# The million-connection run on loopback (bench/million.sh; README, "One
# million connections"): as root, with about 16 GB of RAM at the default
# 1,000,000 connections. MILLIONFLAGS passes flags (--conns 20000 --workers 2).
million:
	bench/million.sh $(MILLIONFLAGS)

# The hardening figures (README, "Hardening: before and after"): every
# probe of bench/hardening against the release before the hardening
# (HARDENING_BASE, built from its commit into bin/base) and this checkout,
# alternating, on loopback; a few minutes per item group. Run it on a quiet
# host. HARDENINGFLAGS passes flags (--items 3,5 --runs 1).
HARDENING_BASE ?= 538c7b7

hardening: build
	rm -rf bin/base-src && mkdir -p bin/base-src bin/base
	git archive $(HARDENING_BASE) | tar -x -C bin/base-src
	cd bin/base-src && $(GO) build -o ../base/ ./cmd/myriad
	bench/hardening/hardening.py --before bin/base --after bin --loadgen bin/myriad-loadgen $(HARDENINGFLAGS)
