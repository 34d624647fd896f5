# The README's commands. Builds go to build/ (Release) and build-asan/ (ASan+UBSan).
JOBS ?= 2
BUILD ?= build
CMAKE_FLAGS ?=

.PHONY: all deps build test test-asan chat clean

all: build

deps:
	.ci/install-deps

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

# Builds and runs the whole suite.
test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-asan:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DSTRATA_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo"

FIXTURES ?= ../shared/fixtures
DEFAULT_MODEL = models/stories260K.strata

# The default model: stories260K, converted once from ../shared/fixtures when present.
$(DEFAULT_MODEL): | build
	@mkdir -p models
	@if [ -f $(FIXTURES)/stories260K/stories260K.bin ]; then \
	  $(BUILD)/strata-convert $(FIXTURES)/stories260K/stories260K.bin \
	    --tokenizer $(FIXTURES)/stories260K/tok512.bin -o $@; \
	else \
	  echo "no $(FIXTURES)/stories260K: downloading the default model (strata pull) is not built yet"; \
	  exit 1; \
	fi

# Installs dependencies, builds, and starts the main job: chat on the default model.
chat: deps build $(DEFAULT_MODEL)
	$(BUILD)/strata -m $(DEFAULT_MODEL)

clean:
	rm -rf build build-asan
