#!/usr/bin/env bash
# Installs the Debian packages the project needs, with apt-get, only those missing:
#   chromium   the browser of the end-to-end journeys (e2e/)
#   runsc      gVisor, the sandbox that runs untrusted code (the `gvisor` driver)
#   bubblewrap the weaker sandbox for machines where runsc cannot run (the `bwrap` driver)
# Usage: scripts/system-packages.sh [package ...]   (default: all of the above)
# Idempotent and quick when everything is installed (one dpkg query, no apt-get).
# Without root (and without passwordless sudo) it prints what is missing and exits 0:
# the tests that need a missing package then skip with a printed reason.
set -euo pipefail

packages=("$@")
if ((${#packages[@]} == 0)); then
  packages=(chromium runsc bubblewrap)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query --show --showformat='${db:Status-Status}' "$package" 2>/dev/null | grep -qx installed; then
    missing+=("$package")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "system-packages: no apt-get here; install these yourself: ${missing[*]}" >&2
  exit 0
fi
as_root=()
if ((EUID != 0)); then
  if sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "system-packages: not root and no passwordless sudo; missing: ${missing[*]} (the tests needing them will skip)" >&2
    exit 0
  fi
fi

echo "system-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A fresh container has no package lists: fetch them when the install cannot find a package.
if ! "${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
  "${as_root[@]}" apt-get update
  "${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi
