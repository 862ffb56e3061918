# The two commands a user types: `make run` and `make test`. CMake does the work.
#   build/       release build (-O2), used by `make run` and `make bench`
#   build-test/  debug build with ASan + UBSan, used by `make test`
JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
VAR   ?= $(CURDIR)/var
MAKEFLAGS += --no-print-directory
SOCK  ?= $(VAR)/dsgraph.sock
DB    ?= $(VAR)/dsgraph.db

.PHONY: all deps build build-test run test clean bench

all: build

deps:
	@sh scripts/ensure-deps

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j $(JOBS) --target dsgraphd dsctl

build-test: deps
	@cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DDSGRAPH_SANITIZE=ON -DDSGRAPH_WERROR=ON >/dev/null
	@cmake --build build-test -j $(JOBS)

# Starts dsgraphd in the foreground on ./var. On the first start (no database yet) the bundled
# DeepSeek graph is imported through the dsgraph_requests plugin, so it is import 1 with provenance.
run: build
	@mkdir -p $(VAR)
	@echo "dsgraphd: socket $(SOCK), database $(DB)"
	@echo "In another terminal try:"
	@echo "  export DSGRAPH_SOCKET=$(SOCK)"
	@echo "  build/dsctl stats"
	@echo "  build/dsctl show DeepSeek-R1"
	@echo "  build/dsctl lineage DeepSeek-R1-Distill-Qwen-7B --up"
	@echo "  build/dsctl search 注意力"
	@echo "  build/dsctl sql 'SELECT count(*) FROM nodes'"
	@if [ ! -e $(DB) ]; then sh scripts/first-start-import build/dsctl $(SOCK) & fi; \
	exec build/dsgraphd --foreground --config etc/dsgraph.conf --socket $(SOCK) --db $(DB)

test: build-test
	@cd build-test && ctest --output-on-failure -j $(JOBS)

# The benchmark suite (bench/run.py; docs/performance.md): a Release build in build-bench/, 1M models.
#   make bench BENCH_ARGS=--small     10,000 models (the CI smoke size)
BENCH_ARGS ?=
bench: deps
	@python3 bench/run.py $(BENCH_ARGS)

clean:
	rm -rf build build-test
