#!/usr/bin/env bash
# Installs libmailwarden for C programs: the shared library with its soname links, the static
# library, include/mailwarden.h and a pkg-config file, and (when libmilter-dev is present)
# mailwarden-milter.
#
#   scripts/install.sh                          # PREFIX=/usr/local, release build
#   PREFIX=/opt/mw scripts/install.sh
#   DESTDIR=/tmp/stage PREFIX=/usr scripts/install.sh    # staged, for packaging
#   PROFILE=debug NO_MILTER=1 scripts/install.sh
#   FEATURES=mimalloc scripts/install.sh        # the library allocates through mimalloc (~15%
#                                               # faster rule scoring than glibc's malloc)
#
# Afterwards:  cc prog.c $(pkg-config --cflags --libs mailwarden)
# (with PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig when PREFIX is not a system prefix).
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
PROFILE=${PROFILE:-release}
LIBDIR=${LIBDIR:-$PREFIX/lib}
INCLUDEDIR=${INCLUDEDIR:-$PREFIX/include}
SBINDIR=${SBINDIR:-$PREFIX/sbin}
VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
MAJOR=0 # the soname's version, set in build.rs; bumped only when the ABI breaks

if [ "${NO_BUILD:-0}" != 1 ]; then
  cargo build --lib --quiet $([ "$PROFILE" = release ] && echo --release) \
    ${FEATURES:+--features "$FEATURES"}
fi
src=target/$PROFILE
[ -f "$src/libmailwarden.so" ] || { echo "install: $src/libmailwarden.so is missing" >&2; exit 1; }

install -d "$DESTDIR$LIBDIR/pkgconfig" "$DESTDIR$INCLUDEDIR"
install -m 0755 "$src/libmailwarden.so" "$DESTDIR$LIBDIR/libmailwarden.so.$VERSION"
ln -sf "libmailwarden.so.$VERSION" "$DESTDIR$LIBDIR/libmailwarden.so.$MAJOR"
ln -sf "libmailwarden.so.$MAJOR" "$DESTDIR$LIBDIR/libmailwarden.so"
install -m 0644 "$src/libmailwarden.a" "$DESTDIR$LIBDIR/libmailwarden.a"
install -m 0644 include/mailwarden.h "$DESTDIR$INCLUDEDIR/mailwarden.h"
sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@LIBDIR@|$LIBDIR|g" -e "s|@INCLUDEDIR@|$INCLUDEDIR|g" \
  -e "s|@VERSION@|$VERSION|g" mailwarden.pc.in >"$DESTDIR$LIBDIR/pkgconfig/mailwarden.pc"
chmod 0644 "$DESTDIR$LIBDIR/pkgconfig/mailwarden.pc"
echo "install: libmailwarden $VERSION -> $DESTDIR$LIBDIR, header -> $DESTDIR$INCLUDEDIR"

if [ "${NO_MILTER:-0}" != 1 ] && [ -f /usr/include/libmilter/mfapi.h ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cc -std=c99 -Wall -Wextra -Werror -O2 -I"$DESTDIR$INCLUDEDIR" \
    -o "$tmp/mailwarden-milter" examples/milter/mailwarden-milter.c \
    -L"$DESTDIR$LIBDIR" -lmailwarden -lmilter -pthread
  install -d "$DESTDIR$SBINDIR"
  install -m 0755 "$tmp/mailwarden-milter" "$DESTDIR$SBINDIR/mailwarden-milter"
  echo "install: mailwarden-milter -> $DESTDIR$SBINDIR"
fi

# Refresh the dynamic linker's cache for a real (not staged) install into its search path.
if [ -z "$DESTDIR" ] && [ "$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then
  ldconfig || true
fi
