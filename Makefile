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

# Installs dependencies, builds, and starts the main job: chat on the default model.
chat: deps build
	$(BUILD)/strata -m models/stories260K.strata

clean:
	rm -rf build build-asan
