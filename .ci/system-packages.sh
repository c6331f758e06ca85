#!/usr/bin/env bash
# The system packages that `make check`, `make test`, `make test-min` and `make demo` need on a bare Debian
# machine: make, Python >= 3.11 with venv, CA certificates (pip and uv reach the package index over TLS), and
# Chromium, in which the report's test opens `livecli report`'s page (Playwright drives /usr/bin/chromium: it never
# downloads a browser of its own).
# Installs only what is missing, so it returns at once where everything is there (as on this project's machines).
#
# Not needed: libsndfile comes inside soundfile's wheels; espeak-ng and sox are only for scripts/make_samples.sh,
# which rebuilds the committed samples/.
set -euo pipefail

PY=${PY:-python3}
missing=()
command -v make >/dev/null || missing+=(make)
if ! command -v "$PY" >/dev/null; then
    missing+=(python3 python3-venv)
elif ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then
    missing+=(python3-venv)
fi
[ -s /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
[ -x /usr/bin/chromium ] || missing+=(chromium)

if ((${#missing[@]} == 0)); then
    echo "system packages: nothing to install (make, $PY with venv, CA certificates, chromium are present)"
else
    echo "system packages: installing ${missing[*]}"
    sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "system packages: livecli needs Python >= 3.11 as $PY (set PY=... for make and this script)" >&2
    exit 1
fi
