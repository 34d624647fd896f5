# The README's commands. Builds go to build/ (Release), build-asan/ (ASan+UBSan), build-tsan/
# (ThreadSanitizer).
JOBS ?= 2
BUILD ?= build
CMAKE_FLAGS ?=

.PHONY: all deps build test test-asan test-tsan test-neon fuzz fuzz-ci bench-kernels bench-tokenizer install chat clean

all: build

deps:
	.ci/install-deps

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

# Installs the tools, libstrata (shared and static), strata.h and strata.pc under PREFIX.
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# Builds and runs the whole suite.
test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-asan:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DSTRATA_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo"

# The concurrency tests (threads sharing a model; forks used while their parent rewrites; the
# C program's four sessions) under ThreadSanitizer. Sessions there run 1 OpenMP thread each.
test-tsan:
	$(MAKE) build BUILD=build-tsan CMAKE_FLAGS="-DSTRATA_SANITIZE_THREAD=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo"
	cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --output-on-failure -R 'Concurrency|c_api'

FIXTURES ?= ../shared/fixtures
DEFAULT_MODEL = models/stories260K.strata
DEFAULT_SOURCE = models/stories260K

# The default model: stories260K (MIT, Andrej Karpathy; models/stories260K/README.md), shipped in
# the repository as its llama2.c files and converted once: no network and no ../shared needed.
$(DEFAULT_MODEL): $(DEFAULT_SOURCE)/stories260K.bin $(DEFAULT_SOURCE)/tok512.bin | build
	$(BUILD)/strata-convert $(DEFAULT_SOURCE)/stories260K.bin --tokenizer $(DEFAULT_SOURCE)/tok512.bin -o $@

# Installs dependencies, builds, and starts the main job: chat on the default model.
chat: deps build $(DEFAULT_MODEL)
	$(BUILD)/strata -m $(DEFAULT_MODEL)

# Kernel benchmarks: strata vs OpenBLAS and oneDNN on TinyLlama shapes (docs/performance.md).
bench-kernels: build
	$(BUILD)/strata-bench-kernels --benchmark_counters_tabular=true $(BENCH_ARGS)

# Tokenizer throughput on a 1 MB text (needs ../shared/fixtures).
bench-tokenizer: build
	$(BUILD)/strata-bench-tokenizer $(BENCH_ARGS)

# NEON kernels: cross-compiled for aarch64, run under qemu with dotprod (-cpu max) and without
# (-cpu cortex-a53); each run must pick the matching kernel row.
QEMU = qemu-aarch64 -L /usr/aarch64-linux-gnu
test-neon:
	cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
	  -DSTRATA_KERNEL_TESTS_ONLY=ON -DCMAKE_BUILD_TYPE=Release
	cmake --build build-aarch64 -j$(JOBS) --target strata_kernel_tests
	$(QEMU) -cpu max build-aarch64/strata_kernel_tests > build-aarch64/max.log 2>&1; \
	  s=$$?; cat build-aarch64/max.log; exit $$s
	grep -q "in use: neon_dotprod" build-aarch64/max.log
	$(QEMU) -cpu cortex-a53 build-aarch64/strata_kernel_tests > build-aarch64/a53.log 2>&1; \
	  s=$$?; cat build-aarch64/a53.log; exit $$s
	grep -q "in use: neon$$" build-aarch64/a53.log

# libFuzzer targets (clang, ASan+UBSan) over seeds from the fixtures. fuzz-ci: FUZZ_SECONDS each
# (CI); fuzz: an hour each unless FUZZ_SECONDS says otherwise. A crash leaves its input in
# build-fuzz/ (crash-*) and fails the target. fuzz_tokenize's inputs are kept to 1 KiB (longer
# texts only repeat the same word-level paths, at a fraction of the rate).
FUZZ_TARGETS = fuzz_strata_file fuzz_gguf fuzz_safetensors fuzz_tokenizer_files fuzz_tokenize fuzz_session_file
FUZZ_SECONDS ?= 3600
build-fuzz/fuzz_gguf: build
	CXX=clang++ CC=clang cmake -S tests/fuzz -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build-fuzz -j$(JOBS)
	rm -rf build-fuzz/corpus && tests/fuzz/make_corpus.sh $(BUILD) $(FIXTURES) build-fuzz/corpus
fuzz: build-fuzz/fuzz_gguf
	cd build-fuzz && for t in $(FUZZ_TARGETS); do \
	  flags=; [ $$t = fuzz_tokenize ] && flags=-max_len=1024; \
	  ./$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $$flags corpus/$$t 2>&1 | tail -n 12 || exit 1; done
fuzz-ci:
	$(MAKE) fuzz FUZZ_SECONDS=20

clean:
	rm -rf build build-asan build-tsan build-aarch64 build-fuzz
