#!/usr/bin/env bash
# Install Debian's chromium package (for headless browser tests) if /usr/bin/chromium is missing.
# Idempotent: a no-op when it is already installed. Uses apt only; never downloads a browser build.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ -x "$CHROMIUM" ]]; then
  echo "[chromium] already installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || { echo "[chromium] ERROR: apt-get not found (Debian/Ubuntu only)" >&2; exit 1; }

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "[chromium] ERROR: must run as root (or have sudo) to apt-get install chromium" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "[chromium] apt-get update"
"${SUDO[@]}" apt-get update -qq
echo "[chromium] apt-get install -y --no-install-recommends chromium"
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium

[[ -x "$CHROMIUM" ]] || { echo "[chromium] ERROR: $CHROMIUM still missing after install" >&2; exit 1; }
echo "[chromium] installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
