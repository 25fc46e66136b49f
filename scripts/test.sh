#!/usr/bin/env bash
# The whole test suite: set-up, formatting and lints, every Rust test (release mode: the corpus
# and differential tests are heavy), then each step in scripts/test.d/ in name order.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export MAILWARDEN_CORPUS="${MAILWARDEN_CORPUS:-$PWD/target/corpus}"
if [ -d ../shared/tools ]; then
  bash ../shared/tools/unpack-corpus.sh "$MAILWARDEN_CORPUS" >/dev/null
fi
cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings
cargo clippy --lib --examples --features "mimalloc rule-timing" --quiet -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
cargo build --release --quiet
cargo test --release
for step in scripts/test.d/*.sh; do
  [ -e "$step" ] || continue
  echo "== $step"
  bash "$step"
done
echo "all tests passed"
