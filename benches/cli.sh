#!/usr/bin/env bash
# Release-mode CLI benchmark on synthetic repositories (benches/synth.rs), reported as ratios
# measured in the same run, because this machine's disk speed varies a lot between runs:
#   cold `generate` vs `cp -r` of the same out/ (both into folders that never existed: re-creating
#   just-deleted paths on ext4 pays for the deletion's journal work and would measure the disk),
#   `check` vs `diff -r` of the same tree, peak memory (max RSS), and time growth from 1,000 to
#   10,000 pipelines. Best of 5. Usage: bash benches/cli.sh [N...] (default: 1000 2000 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --example synth
cargo build --release --quiet
bin="$PWD/target/release/flinkops"
work="${TMPDIR:-/tmp}/flinkops-bench"
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(1000 2000 10000)

now() { date +%s.%N; }
min() { printf '%s\n' "$@" | sort -g | head -1; }

printf "%7s %7s %8s %8s %6s %8s %8s %6s %8s %8s\n" N files gen_s cp_s ratio check_s diff_s ratio gen_MB check_MB
for n in "${sizes[@]}"; do
  rm -rf "$work"; mkdir -p "$work"
  ./target/release/examples/synth "$n" "$work/specs" 2>/dev/null
  gens=(); cps=(); checks=(); diffs=(); gen_kb=0
  for i in 1 2 3 4 5; do
    cp -r "$work/specs" "$work/repo$i"; sync; sleep 1
    s=$(now); (cd "$work/repo$i" && "$bin" -q generate); e=$(now); gens+=("$(echo "$e - $s" | bc -l)")
    sync; sleep 1
    s=$(now); cp -r "$work/repo$i/out" "$work/copy$i"; e=$(now); cps+=("$(echo "$e - $s" | bc -l)")
    s=$(now); (cd "$work/repo$i" && "$bin" -q check); e=$(now); checks+=("$(echo "$e - $s" | bc -l)")
    s=$(now); diff -r "$work/repo$i/out" "$work/copy$i"; e=$(now); diffs+=("$(echo "$e - $s" | bc -l)")
  done
  cp -r "$work/specs" "$work/mem"; sync
  gen_kb=$(cd "$work/mem" && /usr/bin/time -f %M "$bin" -q generate 2>&1 >/dev/null | tail -1)
  check_kb=$(cd "$work/mem" && /usr/bin/time -f %M "$bin" -q check 2>&1 >/dev/null | tail -1)
  files=$(find "$work/mem/out" -type f | wc -l)
  g=$(min "${gens[@]}"); c=$(min "${cps[@]}"); k=$(min "${checks[@]}"); d=$(min "${diffs[@]}")
  printf "%7s %7s %8.2f %8.2f %6.2f %8.2f %8.2f %6.2f %8d %8d\n" "$n" "$files" "$g" "$c" "$(echo "$g/$c" | bc -l)" \
    "$k" "$d" "$(echo "$k/$d" | bc -l)" "$((gen_kb / 1024))" "$((check_kb / 1024))"
done
rm -rf "$work"
