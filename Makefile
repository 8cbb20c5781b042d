# sluice: the two commands are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)

# Packages with goroutines and locks, run under the race detector.
RACE_PKGS := ./segment/... ./stream/... ./ingress/... ./wire/sigv4/... ./internal/cborclient/... \
	./fanout/... ./wire/eventstream/... ./client/...
# Fuzz targets run briefly by `make test`, longer by `make fuzz`.
FUZZ_TARGETS := segment:FuzzFileHeader segment:FuzzStripeHeader segment:FuzzRecords segment:FuzzVmstatBusy \
	stream:FuzzParseSeqNum stream:FuzzParseHashKey stream:FuzzDecodeIterator \
	wire/kinesis:FuzzDecodePutRecords wire/kinesis:FuzzDecodePutRecord \
	wire/kinesis:FuzzDecodeGetRecords wire/kinesis:FuzzDecodeGetShardIterator \
	stream:FuzzConsumerToken stream:FuzzParseResourceARN stream:FuzzListShardsToken \
	wire/sigv4:FuzzParseAuthorization wire/sigv4:FuzzVerify internal/cborclient:FuzzDecode \
	wire/kinesis:FuzzDecodeInputJSON wire/kinesis:FuzzDecodeInputCBOR wire/kinesis:FuzzDecodePutRecordsCBOR \
	wire/kinesis:FuzzDecodeHotCBOR ingress/httpapi:FuzzSniff ingress/httpapi:FuzzHTTPAPIDispatch \
	wire/eventstream:FuzzDecode \
	tools/sluice-agent:FuzzDecodeCheckpoint \
	wire/frame:FuzzDecodeHeader wire/frame:FuzzDecodePut wire/frame:FuzzDecodeAck wire/frame:FuzzDecodeError \
	wire/frame:FuzzDecodeHello wire/frame:FuzzDecodeHelloOK wire/frame:FuzzDecodeAuth wire/frame:FuzzSeqNumOffset \
	ingress/tcp:FuzzSyslogFraming ingress/tcp:FuzzParseSyslog ingress/tcp:FuzzNDJSON \
	internal/xxh64x:FuzzSum64s internal/md5x:FuzzSumStrings
# An iteration count, not a duration: a short -fuzztime duration sometimes
# ends with a spurious "context deadline exceeded" from the fuzzing engine.
FUZZTIME ?= 60000x
FUZZTIME_LONG ?= 2m

# End-to-end runs of real clients against the server binary (TestCmdClients,
# TestCmdTelegraf, TestCmdSubscribeNode, TestCmdRsyslog): the AWS CLI, boto3, @aws-sdk/client-kinesis (npm ci into a
# cache keyed by the lockfile), Telegraf (built once per version) and Debian's
# rsyslogd (.ci/run installs it). Both
# caches live under SLUICE_CACHE; a warm run needs no network.
SLUICE_CACHE ?= $(HOME)/.cache/sluice
TELEGRAF_VERSION ?= 1.37.2
E2E_CLIENT_TESTS := TestCmdClients|TestCmdTelegraf|TestCmdSubscribeNode|TestCmdRsyslog

.PHONY: run build test vet fmt-check unit race fuzz-short fuzz bench bench-quick bench-segment bench-api bench-tcp bench-fanout bench-scale bench-recovery clean \
	e2e-clients e2e-deps

# Build, then exec: the server itself gets SIGINT/SIGTERM and stops cleanly.
run:
	@$(GO) build -o bin/sluice ./cmd/sluice
	@exec ./bin/sluice

build:
	$(GO) build -o bin/ ./cmd/... ./tools/...

test: vet fmt-check unit race fuzz-short bench-quick e2e-clients

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -count=1 ./...

race:
	$(GO) test -count=1 -race -short $(RACE_PKGS)

# A fuzz run that fails without writing a new crasher into testdata/ is the
# fuzzing engine's own hiccup on a loaded machine: it is retried once. A real
# failure leaves its input in testdata/ and fails again at once.
fuzz-short:
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
	  echo "fuzz $$pkg $$fn $(FUZZTIME)"; \
	  if ! $(GO) test ./$$pkg -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME); then \
	    if [ -n "$$(git status --porcelain --untracked-files=all $$pkg/testdata 2>/dev/null)" ]; then exit 1; fi; \
	    echo "fuzz $$pkg $$fn: retrying once"; \
	    $(GO) test ./$$pkg -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME); \
	  fi; done

fuzz:
	$(MAKE) fuzz-short FUZZTIME=$(FUZZTIME_LONG)

# Telegraf builds in the background (minutes when cold) while npm installs.
e2e-deps:
	@set -e; mkdir -p "$(SLUICE_CACHE)"; log="$(SLUICE_CACHE)/telegraf-$(TELEGRAF_VERSION).log"; \
	SLUICE_CACHE="$(SLUICE_CACHE)" TELEGRAF_VERSION=$(TELEGRAF_VERSION) scripts/telegraf.sh >"$$log" 2>&1 & tg=$$!; \
	SLUICE_CACHE="$(SLUICE_CACHE)" scripts/npm-deps.sh >/dev/null; \
	if ! wait $$tg; then cat "$$log"; echo "e2e-deps: the Telegraf build failed (log: $$log)"; exit 1; fi; \
	grep -h '^telegraf' "$$log"

e2e-clients: e2e-deps
	SLUICE_E2E=1 SLUICE_TELEGRAF="$(SLUICE_CACHE)/telegraf-$(TELEGRAF_VERSION)/telegraf" \
	  $(GO) test -count=1 -timeout 30m -run '^($(E2E_CLIENT_TESTS))$$' ./cmd/sluice/

# Every suite in turn (segment, api, tcp, fanout, scale, recovery), then
# the headline table at the top of bench/RESULTS.md and in README.md.
bench:
	$(GO) build -o bin/sluice-bench ./bench/cmd/sluice-bench
	./bin/sluice-bench all

# Every suite briefly (about 1-2 minutes), peers included, results to a
# temporary file: run by `make test` so that the suites keep working; its
# figures are not judged and bench/RESULTS.md is not touched.
bench-quick:
	$(GO) build -o bin/sluice-bench ./bench/cmd/sluice-bench
	./bin/sluice-bench all --quick >/dev/null

bench-segment:
	$(GO) run ./bench/cmd/sluice-bench segment

# The binary TCP protocol beside the JSON API and a gnet discard server,
# in one process; about 2 minutes.
bench-tcp:
	$(GO) run ./bench/cmd/sluice-bench tcp $(BENCH_TCP_FLAGS)

# The Kinesis API against kinesalite and kinesis-mock (npm, installed once) and a discard
# server; about 8 minutes. BENCH_API_FLAGS=--quick for a short pass.
bench-api:
	$(GO) build -o bin/sluice-bench ./bench/cmd/sluice-bench
	./bin/sluice-bench api $(BENCH_API_FLAGS)

# Enhanced fan-out latency: SubscribeToShard (h2c) beside GetRecords
# polling, sluice async and fsync and the peers' GetRecords polling
# (kinesalite, kinesis-mock), 3 passes of 20 s each; about 6 minutes.
# BENCH_FANOUT_FLAGS=--quick for a short pass.
bench-fanout:
	$(GO) build -o bin/sluice-bench ./bench/cmd/sluice-bench
	./bin/sluice-bench fanout $(BENCH_FANOUT_FLAGS)

# Many shards and streams: PutRecords throughput, RSS and CreateStream time
# for streams of 1 to 1000 shards and 100 streams x 5 shards, beside
# kinesalite and kinesis-mock; about 10 minutes, and up to 48 GiB of
# preallocated disk for the 500-shard cases (checked first).
# BENCH_SCALE_FLAGS=--quick for a short pass.
bench-scale:
	$(GO) build -o bin/sluice-bench ./bench/cmd/sluice-bench
	./bin/sluice-bench scale $(BENCH_SCALE_FLAGS)

# Restart after kill -9 with 256 MiB, 512 MiB and 1 GiB stored, healthy and
# with 2 of 6 fragment files of every segment deleted; about 3 minutes.
# BENCH_RECOVERY_FLAGS=--quick for a short pass.
bench-recovery:
	$(GO) build -o bin/sluice-bench ./bench/cmd/sluice-bench
	./bin/sluice-bench recovery $(BENCH_RECOVERY_FLAGS)

clean:
	rm -rf bin data
