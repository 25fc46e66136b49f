#!/usr/bin/env bash
# The Perl binding (bindings/perl, Mail::Warden over FFI::Platypus) against this checkout's
# release libmailwarden.so: its test files with prove, then the CPAN-style distribution's own
# checks (Makefile.PL writes a Makefile, the MANIFEST lists every file), and that an install
# with scripts/install.sh is found through pkg-config. About 10 s, most of it t/03-leak.t's
# 100,000 scans.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
command -v prove >/dev/null || { echo "40-perl: missing prove (perl)" >&2; exit 1; }
perl -MFFI::Platypus -e 1 2>/dev/null || { echo "40-perl: missing FFI::Platypus (run scripts/setup.sh)" >&2; exit 1; }
cargo build --lib --release --quiet
export MAILWARDEN_LIB="$ROOT/target/release/libmailwarden.so"
prove -l bindings/perl/t

T=$(mktemp -d /tmp/mw-perl.XXXXXX)
trap 'rm -rf "$T"' EXIT
cp -a bindings/perl "$T/Mail-Warden"
(
  cd "$T/Mail-Warden"
  perl Makefile.PL >/dev/null
  make --no-print-directory -s >/dev/null
  # Every file is in the MANIFEST and every MANIFEST entry exists.
  make --no-print-directory -s distcheck >"$T/distcheck.out" 2>&1
  cat "$T/distcheck.out"
  ! grep -q -e '^Not in MANIFEST' -e '^No such file' "$T/distcheck.out"
)

# Without MAILWARDEN_LIB the module finds an installed library through pkg-config.
if command -v pkg-config >/dev/null; then
  NO_BUILD=1 NO_MILTER=1 PREFIX="$T/prefix" scripts/install.sh >/dev/null
  got=$(env -u MAILWARDEN_LIB PKG_CONFIG_PATH="$T/prefix/lib/pkgconfig" \
    perl -Ibindings/perl/lib -MMail::Warden -e 'print $Mail::Warden::LIBRARY, " ", Mail::Warden->version')
  [[ "$got" == "$T/prefix/lib/libmailwarden.so.0 "* ]] || { echo "40-perl: pkg-config install not used: $got" >&2; exit 1; }
  echo "ok: found through pkg-config: $got"
fi
echo "40-perl: all passed"
