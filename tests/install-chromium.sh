#!/usr/bin/env bash
# Installs what the admin page tests need when it is missing: they drive a real headless Chromium. On Debian,
# chromium and chromium-driver are installed (as root, or through sudo). Run by the build of
# tests/DynamicSubset.Routing.Cli.Tests, so the README's 'dotnet test -c Release' sets itself up; without a browser
# those tests fail and say how to install it. Never fails the build.
set -uo pipefail

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

exit 0
