#!/usr/bin/env bash
# Release-mode CLI benchmark on synthetic repositories (benches/synth.rs), reported as ratios
# measured in the same run, because this machine's disk speed varies a lot between runs:
#   cold `generate` vs `cp -r` of the same out/ (both into folders that never existed: re-creating
#   just-deleted paths on ext4 pays for the deletion's journal work and would measure the disk),
#   `check` vs `diff -r` of the same tree, peak memory (max RSS), and time growth from 1,000 to
#   10,000 pipelines. Best of 5. Then, per N, the delivery units (SPEC §14): `kubectl kustomize`
#   of the largest unit and of 20 random units (what Argo CD's repo server / Flux's
#   kustomize-controller runs per unit; target < 1 s), the largest Argo CD Application and Flux
#   Kustomization in bytes (target < 64 KiB), and — up to 2,000 pipelines, as it grows
#   quadratically — the env-level `kubectl kustomize out/prod` the old single unit needed.
#   Usage: bash benches/cli.sh [--no-units] [N...] (default: 1000 2000 10000); --no-units stops
#   after the first table (the kustomize builds take long and do not depend on flinkops' speed).
set -euo pipefail
cd "$(dirname "$0")/.."
units_too=1
if [ "${1:-}" = --no-units ]; then units_too=0; shift; fi
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

[ $units_too = 1 ] || { rm -rf "$work"; exit 0; }

# The delivery units, on the last repository of each size (regenerated: the loop above deletes it).
have_kubectl=1; command -v kubectl >/dev/null 2>&1 || have_kubectl=0
[ $have_kubectl = 1 ] || echo "kubectl not found: the unit build times are left out" >&2
echo
printf "%7s %7s %10s %10s %10s %10s %10s %10s %10s\n" N units big_bytes big_s rand_med_s rand_max_s argocd_max flux_max env_s
for n in "${sizes[@]}"; do
  rm -rf "$work"; mkdir -p "$work"
  ./target/release/examples/synth "$n" "$work/repo" 2>/dev/null
  (cd "$work/repo" && "$bin" -q generate)
  out="$work/repo/out"
  # Unit folder → bytes of its files (the _namespaces unit has a folder per namespace).
  find "$out" -type f -name '*.yaml' -printf '%s %P\n' \
    | awk '{ n = split($2, a, "/"); if (a[1] != "argocd" && a[1] != "flux" && a[1] != "images" && n > 2) s[a[1] "/" a[2]] += $1 }
           END { for (u in s) print s[u], u }' | sort -n > "$work/units.txt"
  units=$(wc -l < "$work/units.txt")
  read -r big_bytes big < <(tail -1 "$work/units.txt")
  argocd_max=$(find "$out/argocd" -type f -printf '%s\n' | sort -n | tail -1)
  cp -r "$work/repo" "$work/flux"; rm -rf "$work/flux/out"
  printf '\n[delivery]\ntool = "flux"\n' >> "$work/flux/flinkops.toml"
  (cd "$work/flux" && "$bin" -q generate)
  flux_max=$(find "$work/flux/out/flux" -type f -printf '%s\n' | sort -n | tail -1)
  big_s=-; med=-; max=-; env_s=-
  if [ $have_kubectl = 1 ]; then
    ts=()
    for i in 1 2 3; do s=$(now); kubectl kustomize "$out/$big" >/dev/null; e=$(now); ts+=("$(echo "$e - $s" | bc -l)"); done
    big_s=$(min "${ts[@]}")
    # 20 units drawn with a fixed seed, so runs compare like with like.
    rand=()
    while read -r _ u; do
      s=$(now); kubectl kustomize "$out/$u" >/dev/null; e=$(now); rand+=("$(echo "$e - $s" | bc -l)")
    done < <(shuf -n 20 --random-source=<(yes) "$work/units.txt")
    med=$(printf '%s\n' "${rand[@]}" | sort -g | sed -n 10p)
    max=$(printf '%s\n' "${rand[@]}" | sort -g | tail -1)
    if [ "$n" -le 2000 ]; then s=$(now); kubectl kustomize "$out/prod" >/dev/null; e=$(now); env_s=$(echo "$e - $s" | bc -l); fi
  fi
  printf "%7s %7s %10s %10s %10s %10s %10s %10s %10s\n" "$n" "$units" "$big_bytes" "$big_s" "$med" "$max" "$argocd_max" "$flux_max" "$env_s"
done
rm -rf "$work"
