#!/usr/bin/env bash
# Installs the Debian packages that Vigil's build and tests need.
# Idempotent: packages already present are skipped, and apt-get runs only
# when something is missing. Uses sudo only when not running as root.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libabsl-dev liblz4-dev libre2-dev libgflags-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev jq
  libboost1.81-dev libprotobuf-dev protobuf-compiler libsnappy-dev
  prometheus-cpp-dev libyaml-cpp-dev libssl-dev zlib1g-dev libcrypt-dev
  curl prometheus prometheus-node-exporter prometheus-pushgateway prometheus-alertmanager
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
