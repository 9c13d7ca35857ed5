#!/usr/bin/env bash
# The parts of the test suite that no Python wheel ships: Debian's Chromium and ChromeDriver, which
# tests/test_ui.py drives headless, and a font with the Urdu letters for its screenshots.
# Installs what is missing when it can (as root, or with passwordless sudo); otherwise stops at once
# with the one command to run. Every other server the tests start comes from the venv.
set -euo pipefail

packages=()
[ -x /usr/bin/chromium ] || packages+=(chromium)
[ -x /usr/bin/chromedriver ] || packages+=(chromium-driver)
fonts=()
if ! fc-list 2>/dev/null | grep -i "Noto Naskh Arabic" >/dev/null; then  # not -q: with pipefail, an early exit fails the pipe
  fonts+=(fonts-noto-core)  # without it the screenshots show boxes; the test itself still passes
fi
[ ${#packages[@]} -eq 0 ] && [ ${#fonts[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  as_root=(none)
fi

install_fonts() {  # never stops the run: without the font the screenshots show boxes
  [ ${#fonts[@]} -gt 0 ] && [ "${as_root[0]:-}" != none ] && command -v apt-get >/dev/null 2>&1 || return 0
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${fonts[@]}" >/dev/null 2>&1 ||
    echo "note: fonts-noto-core not installed; UI screenshots will show boxes for Urdu letters"
}

if [ ${#packages[@]} -eq 0 ]; then  # only the font is missing
  install_fonts
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "make test: tests/test_ui.py needs Chromium at /usr/bin/chromium and ChromeDriver at /usr/bin/chromedriver;" >&2
  echo "this is not a Debian system, so install them with its package manager, then run make test again." >&2
  exit 1
fi
if [ "${as_root[0]:-}" = none ]; then
  echo "make test: tests/test_ui.py needs Debian's ${packages[*]}; installing needs root. Run:" >&2
  echo "  sudo apt-get install -y ${packages[*]} ${fonts[*]}" >&2
  exit 1
fi
echo "Installing Debian's ${packages[*]} ${fonts[*]} for the UI test (tests/test_ui.py)..."
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq "${packages[@]}" >/dev/null
install_fonts
