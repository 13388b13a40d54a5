#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) from its seed corpus, and prints one line
# per target and a total: crashes must be 0. A crash leaves its input in fuzz/artifacts/TARGET/;
# make it a regression test (the reproducer is `cargo +nightly fuzz run TARGET FILE`).
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Not part of CI.
set -uo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
crashed=0
for target in entry note receipt proofs tiles command passkey; do
    mkdir -p "corpus/$target" "seeds/$target"
    if cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"/tmp/armory-fuzz-$target.log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "/tmp/armory-fuzz-$target.log" | grep -o '[0-9]*$')
        echo "$target: ${runs:-?} runs in ${seconds} s, 0 crashes"
    else
        crashed=$((crashed + 1))
        echo "$target: CRASH, see /tmp/armory-fuzz-$target.log and fuzz/artifacts/$target/"
    fi
done
echo "$crashed targets crashed"
[ "$crashed" -eq 0 ]
