# Vigil developer entry points. See README.md.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
DATA_DIR ?= ./data
JOBS ?= $(shell nproc)

.PHONY: deps configure build test bench run fuzz clean

FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

bench: build
	scripts/run-benchmarks.sh $(BUILD_DIR)

run: build
	$(BUILD_DIR)/vigil serve --data_dir=$(DATA_DIR) --config=config/vigil.yml

# libFuzzer + ASan builds of every fuzz target, each run FUZZ_SECONDS.
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DVIGIL_FUZZ=ON
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target all_fuzz
	scripts/run-fuzzers.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD_DIR)
