#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine. Idempotent: packages already
# present are skipped, so a second run costs a few seconds.
set -euo pipefail
packages=(
  build-essential pkg-config valgrind time      # C examples, leak checks, /usr/bin/time -v
  clamav clamav-testfiles                        # differential signature tests, test files
  genisoimage libarchive-tools                   # ISO images by a real tool; bsdtar reads rar
  spamassassin spamd spamc                       # stock rules, differential rule tests, spamd bench
  postfix libmilter-dev swaks                    # milter end-to-end test
  libffi-platypus-perl mimedefang                # Perl binding, MIMEDefang end-to-end
  clamav-daemon clamdscan                        # benches/compare/clamd.sh (a private clamd)
  python3                                        # malformed-mail variants, milter load scripts
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Postfix asks for a configuration type; a local-only one keeps it off the network.
  echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
  echo "postfix postfix/mailname string mailwarden.test" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Services the packages start are not wanted: tests start their own on loopback ports.
for svc in postfix clamav-freshclam clamav-daemon spamd spamassassin mimedefang; do
  (command -v systemctl >/dev/null && systemctl stop "$svc" 2>/dev/null) || true
  (service "$svc" stop >/dev/null 2>&1) || true
done
if ! command -v cbindgen >/dev/null; then
  cargo install --quiet --locked cbindgen --version "^0.29" || cargo install --quiet --locked cbindgen
fi
# fuzz/run.sh and scripts/test.d/60-fuzz.sh (the stable toolchain runs it with RUSTC_BOOTSTRAP=1)
if ! command -v cargo-fuzz >/dev/null; then
  cargo install --quiet --locked cargo-fuzz
fi
echo "setup: done"
