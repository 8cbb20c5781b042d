# sluice: the two commands are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)

# Packages with goroutines and locks, run under the race detector.
RACE_PKGS := ./segment/...
# Fuzz targets run briefly by `make test`, longer by `make fuzz`.
FUZZ_TARGETS := segment:FuzzFileHeader segment:FuzzStripeHeader segment:FuzzRecords
FUZZTIME ?= 5s
FUZZTIME_LONG ?= 2m

.PHONY: run build test vet fmt-check unit race fuzz-short fuzz bench bench-segment clean

run:
	$(GO) run ./cmd/sluice

build:
	$(GO) build -o bin/ ./cmd/... ./tools/...

test: vet fmt-check unit race fuzz-short

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -count=1 ./...

race:
	$(GO) test -count=1 -race -short $(RACE_PKGS)

fuzz-short:
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
	  echo "fuzz $$pkg $$fn $(FUZZTIME)"; \
	  $(GO) test ./$$pkg -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME); done

fuzz:
	$(MAKE) fuzz-short FUZZTIME=$(FUZZTIME_LONG)

bench: bench-segment

bench-segment:
	$(GO) run ./bench/cmd/sluice-bench segment

clean:
	rm -rf bin data
