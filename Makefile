# Vigil developer entry points. See README.md.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
DATA_DIR ?= ./data
JOBS ?= $(shell nproc)

.PHONY: deps configure build test bench run clean

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
	$(BUILD_DIR)/vigil serve --data_dir=$(DATA_DIR)

clean:
	rm -rf $(BUILD_DIR)
