#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, when they are missing.
# Usage: scripts/install-deps.sh [--test]   (--test adds what only the test suite needs)
set -euo pipefail

packages=(libsodium-dev libsqlite3-dev pkg-config)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${1:-}" = "--test" ] && ! command -v python3 >/dev/null 2>&1; then
    missing+=(python3 python3-pip)
fi

if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing missing Debian packages: ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "${1:-}" = "--test" ]; then
    # The Noise interoperability test runs an independent implementation from PyPI.
    if ! python3 -c "import noise" >/dev/null 2>&1; then
        echo "Installing the Python package noiseprotocol"
        python3 -m pip install --quiet --disable-pip-version-check noiseprotocol \
            || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages noiseprotocol
    fi
fi
