#!/usr/bin/env bash
# `make load`: a bounded load test of `medval serve` on loopback with wrk (Debian package, installed if missing).
# Prints requests/s, latency, 5xx and non-2xx counts, and the worker's resident memory before and after;
# fails on any 5xx or on memory growth above LOAD_MAX_RSS_GROWTH_PCT. Figures go in the README, not in tests.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN="${LOAD_SECONDS:-60}"
CONNECTIONS="${LOAD_CONNECTIONS:-16}"
THREADS="${LOAD_THREADS:-2}"
MAX_GROWTH_PCT="${LOAD_MAX_RSS_GROWTH_PCT:-10}"
PORT="${LOAD_PORT:-18089}"
export LOAD_BODY="${LOAD_BODY:-examples/orders/oral-max-exceeded.json}"

if ! command -v wrk >/dev/null; then
  echo "load: installing wrk (Debian)"
  apt-get install -y -q wrk >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }
fi

log="$(mktemp)"
# one worker: the figures are per worker; the server keeps no state, so N workers scale these by up to N cores
.venv/bin/medval serve --host 127.0.0.1 --port "$PORT" --workers 1 2>"$log" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 0.2
done
rss() { awk '/^VmRSS/ {print $2}' "/proc/$server/status"; }

url="http://127.0.0.1:$PORT/fhir/MedicationRequest/\$validate"
wrk -t "$THREADS" -c "$CONNECTIONS" -d 5s -s scripts/load.lua "$url" >/dev/null  # warm-up: caches, allocator
before=$(rss)
echo "load: $SECONDS_TO_RUN s, $THREADS threads, $CONNECTIONS connections, body $LOAD_BODY ($(wc -c <"$LOAD_BODY") bytes)"
out=$(wrk -t "$THREADS" -c "$CONNECTIONS" -d "${SECONDS_TO_RUN}s" --latency -s scripts/load.lua "$url")
after=$(rss)
echo "$out" | grep -E "Requests/sec|Transfer/sec|requests in|Socket errors|^load:"
growth=$(( (after - before) * 100 / before ))
echo "load: worker RSS before ${before} kB, after ${after} kB (${growth}%)"
if grep -q "Traceback" "$log"; then echo "load: FAIL, tracebacks in the server log"; exit 1; fi
fives=$(echo "$out" | sed -n 's/^load: 5xx=\([0-9]*\).*/\1/p')
if [ "${fives:-1}" -ne 0 ]; then echo "load: FAIL, $fives answers were 5xx"; exit 1; fi
if [ "$growth" -gt "$MAX_GROWTH_PCT" ]; then echo "load: FAIL, worker memory grew ${growth}% (> ${MAX_GROWTH_PCT}%)"; exit 1; fi
echo "load: OK"
