#!/usr/bin/env bash
# Fuzz the parsers that take text from outside (fuzz/fuzz_targets): OData query options,
# addresses and domains, JSON bodies into the domain's input types, and what identity
# providers send (discovery documents, key sets, ID tokens). Each target runs for
# SECONDS (default 20; .ci/run makes a short run of 12; a long run is `scripts/fuzz.sh 3600`),
# starting from the seeds in fuzz/seeds. A crash stops the run and leaves its input in
# fuzz/artifacts/<target>/ — turn it into a regression test in the domain's tests.
#
# libFuzzer's instrumentation needs nightly compiler flags; this machine has one stable
# toolchain, and RUSTC_BOOTSTRAP=1 lets it accept them for this build only.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz (cargo install --locked cargo-fuzz)"
  cargo install --locked --quiet cargo-fuzz
fi
export RUSTC_BOOTSTRAP=1
cd fuzz
cargo fuzz build --release
for target in $(cargo fuzz list); do
  mkdir -p "corpus/$target"
  echo "fuzzing $target for ${seconds}s"
  cargo fuzz run --release "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 2>&1 | grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss)|SUMMARY|panicked|ERROR" || true
  # cargo fuzz exits non-zero on a crash; grep above hides the status, so check artifacts.
  if compgen -G "artifacts/$target/*" >/dev/null; then
    echo "!!! $target found a crash: fuzz/artifacts/$target/" >&2
    exit 1
  fi
done
