#!/usr/bin/env bash
# dynsubset diff over recorded requests, timed as a whole process: a configuration of 100 services before and after an
# edit (every tenth service's fallback policy, a relabelled pod in every seventh), replaying 100,000 and then 1,000,000
# requests. Prints the wall time and the peak resident memory of each run: the memory should not grow with the requests.
#   bash benchmarks/diff-scale.sh [requests=1000000] [services=100]
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-1000000}; services=${2:-100}
for project in src/DynamicSubset.Routing.Cli benchmarks/DynamicSubset.Routing.Benchmarks; do dotnet build -c Release "$project" -v q -nologo >/dev/null; done
work=$(mktemp -d /tmp/dsr-diff-scale-XXXX)
trap 'rm -rf "$work"' EXIT
dotnet benchmarks/DynamicSubset.Routing.Benchmarks/bin/Release/net10.0/DynamicSubset.Routing.Benchmarks.dll diff-data "$work" "$requests" "$services" >/dev/null
head -n $((requests / 10)) "$work/requests.jsonl" > "$work/tenth.jsonl"
for file in tenth.jsonl requests.jsonl; do
  lines=$(wc -l < "$work/$file")
  status=0
  /usr/bin/time -f "%e %M" -o "$work/time" dotnet src/DynamicSubset.Routing.Cli/bin/Release/net10.0/dynsubset.dll diff \
    --before "$work/before.yaml" --after "$work/after.yaml" --requests "$work/$file" -o json > "$work/out.json" || status=$?
  [ "$status" -le 1 ] || { echo "dynsubset diff failed ($status)"; exit 1; }
  read -r seconds kb < <(tail -n 1 "$work/time")
  moved=$(grep -o '"moved": [0-9]*' "$work/out.json" | awk '{s += $2} END {print s}')
  echo "$lines requests: ${seconds} s, peak memory $((kb / 1024)) MB, $moved moved"
done
