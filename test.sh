#!/usr/bin/env bash
# The README's test command: installs what the tests need when it is missing, then runs them.
#   bash test.sh                  # every test, Release
#   bash test.sh --no-build ...   # extra arguments go to 'dotnet test'
# The admin page tests drive a real headless Chromium; on Debian, chromium and chromium-driver are installed here
# (as root, or through sudo) when missing. Without them those tests fail and say how to install them.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  install=(apt-get install -y -qq chromium chromium-driver)
  if command -v apt-get >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      echo "installing chromium and chromium-driver for the admin page tests"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${install[@]}" >/dev/null) || echo "could not install chromium: the admin page tests will fail and say so"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      echo "installing chromium and chromium-driver for the admin page tests"
      (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive "${install[@]}" >/dev/null) || echo "could not install chromium: the admin page tests will fail and say so"
    else
      echo "chromium and chromedriver are missing, and installing them needs root: sudo apt-get install chromium chromium-driver"
    fi
  else
    echo "chromium and chromedriver are missing (no apt-get here): the admin page tests will fail and say so"
  fi
fi

exec dotnet test -c Release "$@"
