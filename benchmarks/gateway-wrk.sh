#!/usr/bin/env bash
# dynsubset serve against a plain YARP forwarder with a hand-written switch (PlainForwarder.cs), side by side in one
# run: the same six nginx pods on loopback, the same wrk load, alternated round by round. Prints throughput and p99 of
# each round and the ratios (serve / plain) over all rounds. Needs wrk and nginx (apt-get install wrk nginx-light).
#   bash benchmarks/gateway-wrk.sh [rounds=8] [seconds=5] [connections=32]
# SERVE_DLL=path/to/dynsubset.dll runs another build of serve (an earlier commit) against the same baseline.
# SERVE_ARGS="..." adds options to serve; BASELINE=serve makes the baseline serve itself without them, on the
# baseline's address (for example SERVE_ARGS="--access-log /tmp/a.log" BASELINE=serve: the access log on vs off).
# CHURN=files rewrites serve's DestinationRule file 20 times a second (CHURN_RATE=n for another rate) for the whole run,
# alternating two versions that differ in a comment, so every rewrite is a reload of the same rules.
# CHURN=pods makes serve read the cluster from a stand-in API server (benchmarks' stand-in-cluster, on 127.0.40.40) with
# the same six pods and rules, and relabels one pod at a time 100 times a second (CHURN_RATE=n for another rate) for the
# whole run; the relabel toggles a label no selector reads, so routing stays the same.
# WARMUP=n sets the warm-up passes per server (2; 6 under CHURN, below). LAUNCHES=n restarts both servers n times (below).
# SERVE_ENV="NAME=value ..." sets variables for that serve only; nginx also answers 200 on 127.0.40.30:4318, an OTLP/HTTP
# sink: SERVE_ENV="OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.40.30:4318 OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf" BASELINE=serve.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-8}; seconds=${2:-5}; connections=${3:-32}
for tool in wrk nginx; do command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install wrk nginx-light"; exit 2; }; done

work=$(mktemp -d /tmp/dsr-wrk-XXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; nginx -p "$work" -c nginx.conf -s stop 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# Six pods, as on the reference page: each answers with its own name.
pods=("dev-v1 dev v1" "dev-v2 dev v2" "dev-v3 dev v3" "prod-v2 prod v2" "prod-v3-a prod v3" "prod-v3-b prod v3")
{
  echo "worker_processes 1; pid $work/nginx.pid; error_log $work/error.log; events { worker_connections 4096; }"
  echo "http { access_log off; keepalive_requests 100000;"
  for i in "${!pods[@]}"; do
    read -r name _ _ <<<"${pods[$i]}"
    echo "  server { listen 127.0.40.$((11 + i)):8080; location / { return 200 '$name'; } }"
  done
  echo "  server { listen 127.0.40.30:4318; location / { return 200; } }"
  echo "}"
} > "$work/nginx.conf"
mkdir -p "$work/logs"
nginx -p "$work" -c nginx.conf

{
  echo "apiVersion: v1"; echo "kind: List"; echo "items:"
  for i in "${!pods[@]}"; do
    read -r name stage version <<<"${pods[$i]}"
    echo "  - {apiVersion: v1, kind: Pod, metadata: {name: $name, namespace: default, labels: {app: helloworld, stage: $stage, version: $version}}, status: {podIP: 127.0.40.$((11 + i)), conditions: [{type: Ready, status: \"True\"}]}}"
  done
} > "$work/pods.yaml"
sed 's/targetPort: 5678/targetPort: 8080/' src/DynamicSubset.Routing.Cli/Reference/service.yaml > "$work/service.yaml"
cp src/DynamicSubset.Routing.Cli/Reference/dr-step2.yaml src/DynamicSubset.Routing.Cli/Reference/vs-step2.yaml "$work/"

for project in src/DynamicSubset.Routing.Cli benchmarks/DynamicSubset.Routing.Benchmarks; do dotnet build -c Release "$project" -v q -nologo >/dev/null; done
serve_dll=${SERVE_DLL:-src/DynamicSubset.Routing.Cli/bin/Release/net10.0/dynsubset.dll}
read -r -a serve_args <<<"${SERVE_ARGS:-}"
read -r -a serve_env <<<"${SERVE_ENV:-}"
source_args=(-f "$work/pods.yaml" -f "$work/service.yaml" -f "$work/dr-step2.yaml" -f "$work/vs-step2.yaml")
if [ "${CHURN:-}" = pods ]; then
  cluster_args=()
  for i in "${!pods[@]}"; do read -r name stage version <<<"${pods[$i]}"; cluster_args+=(--pod "$name/$stage/$version/127.0.40.$((11 + i))"); done
  dotnet benchmarks/DynamicSubset.Routing.Benchmarks/bin/Release/net10.0/DynamicSubset.Routing.Benchmarks.dll stand-in-cluster \
    --listen 127.0.40.40 --kubeconfig "$work/kubeconfig" --rate "${CHURN_RATE:-100}" "${cluster_args[@]}" > "$work/cluster.log" 2>&1 &
  pids+=($!); cluster_pid=$!
  for _ in $(seq 1 100); do [ -f "$work/kubeconfig" ] && break; sleep 0.1; done
  [ -f "$work/kubeconfig" ] || { echo "the stand-in cluster did not start"; cat "$work/cluster.log"; exit 1; }
  source_args=(--kubernetes --kubeconfig "$work/kubeconfig" --namespace default)
fi
# One Lua script: a third of the requests each to dev/v1, prod/v2 and the default (prod/v3, two pods).
cat > "$work/mix.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  local k = n % 3
  local h = { ["Host"] = "helloworld:8000" }
  if k == 0 then h["x-stage"] = "dev"; h["x-version"] = "v1" elseif k == 1 then h["x-stage"] = "prod"; h["x-version"] = "v2" end
  return wrk.format("GET", "/", h)
end
LUA

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system clock ticks of a process
run() { # url pid -> "requests_per_second p99_ms non2xx cpu_us_per_request"
  local before; before=$(cpu "$2")
  local out; out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/mix.lua" "$1")
  local rps p99 bad requests used
  used=$(( $(cpu "$2") - before ))
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; print v}' <<<"$out")
  bad=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
  echo "$rps $p99 ${bad:-0} $(awk -v t="$used" -v n="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.1f", t * 1000000 / hz / n}')"
}

start_servers() { # starts serve and the baseline (a new process each, so each launch JITs and tiers afresh), waits until both route
  env "${serve_env[@]}" dotnet "$serve_dll" serve "${source_args[@]}" \
    --listen http://127.0.40.1:18080 "${serve_args[@]}" >> "$work/serve.log" 2>&1 &
  pids+=($!); serve_pid=$!
  if [ "${BASELINE:-plain}" = serve ]; then
    dotnet "$serve_dll" serve -f "$work/pods.yaml" -f "$work/service.yaml" -f "$work/dr-step2.yaml" -f "$work/vs-step2.yaml" \
      --listen http://127.0.40.2:18081 >> "$work/plain.log" 2>&1 &
  else
    plain_args=()
    for i in "${!pods[@]}"; do read -r _ stage version <<<"${pods[$i]}"; plain_args+=(--pod "$stage/$version/127.0.40.$((11 + i)):8080"); done
    dotnet benchmarks/DynamicSubset.Routing.Benchmarks/bin/Release/net10.0/DynamicSubset.Routing.Benchmarks.dll plain-forwarder --listen http://127.0.40.2:18081 "${plain_args[@]}" >> "$work/plain.log" 2>&1 &
  fi
  pids+=($!); plain_pid=$!

  wait_for() { for _ in $(seq 1 100); do curl -s -o /dev/null -H 'Host: helloworld:8000' "$1" && return 0; sleep 0.1; done; echo "$1 did not start"; cat "$work"/*.log; exit 1; }
  wait_for http://127.0.40.1:18080/; wait_for http://127.0.40.2:18081/
  [ "$(curl -s -H 'Host: helloworld:8000' -H 'x-stage: dev' -H 'x-version: v1' http://127.0.40.1:18080/)" = dev-v1 ] || { echo "serve does not route x-stage: dev, x-version: v1 to dev-v1"; exit 1; }
  [ "$(curl -s -H 'Host: helloworld:8000' -H 'x-stage: dev' -H 'x-version: v1' http://127.0.40.2:18081/)" = dev-v1 ] || { echo "the baseline does not route to dev-v1"; exit 1; }
}
stop_servers() { kill "$serve_pid" "$plain_pid" 2>/dev/null || true; wait "$serve_pid" "$plain_pid" 2>/dev/null || true; }

if [ "${CHURN:-}" = files ]; then
  rate=${CHURN_RATE:-20}
  (
    n=0
    while true; do
      n=$((n + 1))
      { echo "# rewrite $((n % 2))"; cat src/DynamicSubset.Routing.Cli/Reference/dr-step2.yaml; } > "$work/dr-step2.yaml.tmp"
      mv "$work/dr-step2.yaml.tmp" "$work/dr-step2.yaml"
      sleep "$(awk -v r="$rate" 'BEGIN{printf "%.3f", 1/r}')"
    done
  ) &
  pids+=($!)
  echo "churn: serve's DestinationRule file rewritten $rate times a second"
elif [ "${CHURN:-}" = pods ]; then
  echo "churn: one pod relabelled ${CHURN_RATE:-100} times a second by the stand-in API server"
elif [ -n "${CHURN:-}" ]; then
  echo "CHURN is files or pods, not '$CHURN'"; exit 2
fi

# Two warm-up passes each: after one, both servers still sped up over the next rounds (tiering), which biased round 1.
# Under churn, six (a minute): the reload path runs about once a second, so the JIT compiles it to its last tier only
# after some 30 reloads; until then serve's CPU carries that compiling (700 ms in the first 10 s of 20 rewrites a second,
# 110 to 160 ms in 10 s after a minute, with no requests). WARMUP=n sets the number of passes.
warmup=${WARMUP:-$([ -n "${CHURN:-}" ] && echo 6 || echo 2)}
# LAUNCHES=n starts both servers afresh n times, each for its own warm-up and rounds: the JIT's tiering and dynamic PGO
# settle differently in each process, which moves a run's ratio by more than its rounds do.
launches=${LAUNCHES:-1}
ratios=(); p99s=(); cpus=()
for launch in $(seq 1 "$launches"); do
  start_servers
  echo "launch $launch of $launches: warm-up ($warmup passes)"
  for _ in $(seq 1 "$warmup"); do run http://127.0.40.2:18081/ "$plain_pid" >/dev/null; run http://127.0.40.1:18080/ "$serve_pid" >/dev/null; done
  printf '%-6s %-8s %12s %10s %8s %14s\n' round server req/s p99_ms non2xx cpu_us/request
  # Rounds alternate which server goes first, and the ratios are taken round by round (the two runs of a round are
  # seconds apart), then the median: this machine's speed drifts more between rounds than the two servers differ.
  launch_ratios=()
  for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then
      read -r a ap ab ac <<<"$(run http://127.0.40.2:18081/ "$plain_pid")"; read -r b bp bb bc <<<"$(run http://127.0.40.1:18080/ "$serve_pid")"
    else
      read -r b bp bb bc <<<"$(run http://127.0.40.1:18080/ "$serve_pid")"; read -r a ap ab ac <<<"$(run http://127.0.40.2:18081/ "$plain_pid")"
    fi
    printf '%-6s %-8s %12s %10s %8s %14s\n' "$r" "${BASELINE:-plain}" "$a" "$ap" "$ab" "$ac"
    printf '%-6s %-8s %12s %10s %8s %14s\n' "$r" serve "$b" "$bp" "$bb" "$bc"
    ratios+=("$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.4f", b/a}')"); p99s+=("$(awk -v a="$ap" -v b="$bp" 'BEGIN{printf "%.4f", b/a}')"); cpus+=("$(awk -v a="$ac" -v b="$bc" 'BEGIN{printf "%.4f", b/a}')")
    launch_ratios+=("${ratios[-1]}")
  done
  stop_servers
  [ "$launches" -gt 1 ] && echo "launch $launch: throughput $(median "${launch_ratios[@]}")x (median of its $rounds rounds)"
done
base=${BASELINE:-plain}; [ "$base" = serve ] && base="serve-without-SERVE_ARGS"
echo "per-round throughput ratios (serve / $base): ${ratios[*]}"
echo "per-round p99 ratios (serve / $base): ${p99s[*]}"
echo "per-round CPU-per-request ratios (serve / $base): ${cpus[*]}"
[ "${CHURN:-}" = files ] && echo "serve reloads during the run: $(grep -c 'Reloaded mesh configuration' "$work/serve.log" || true)"
if [ "${CHURN:-}" = pods ]; then
  kill -TERM "$cluster_pid"; wait "$cluster_pid" 2>/dev/null || true
  echo "$(tail -1 "$work/cluster.log") during the run"
fi
echo "serve / $base: throughput $(median "${ratios[@]}")x, p99 $(median "${p99s[@]}")x, CPU per request $(median "${cpus[@]}")x (medians over ${#ratios[@]} rounds of ${seconds}s in $launches launch(es), $connections connections)"
