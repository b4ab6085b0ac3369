#!/usr/bin/env bash
# Load test of the API server the stack runs: GET /api/v1/workers with N
# workers stored, driven by wrk, against GET /healthz (no database) as the
# baseline measured in the same run. Prints a table; exits 1 on any error
# response or socket error.
#
#   infra/bench-api.sh [-n WORKERS] [-d DURATION] [-c CONNECTIONS] [-t THREADS]
#
# The workers it creates are named bench-NNN and deleted at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=200 DURATION=20s CONNS=32 THREADS=2
usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }
while getopts "n:d:c:t:h" o; do
  case $o in
    n) N=$OPTARG ;; d) DURATION=$OPTARG ;; c) CONNS=$OPTARG ;; t) THREADS=$OPTARG ;;
    h) usage; exit 0 ;; *) usage >&2; exit 2 ;;
  esac
done
eval "$("$ROOT/infra/stack.sh" env)"
command -v wrk >/dev/null || { echo "==> installing wrk"; apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk; }
API=$TRIBUTARY_API_URL
curl -fs -o /dev/null "$API/readyz" || { echo "error: the API at $API is not ready; run 'make up'" >&2; exit 1; }

json_field() { sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" | head -1; }
TOKEN=$(curl -fsS "$API/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$TRIBUTARY_ADMIN_EMAIL\",\"password\":\"$(cat "$TRIBUTARY_ADMIN_PASSWORD_FILE")\"}" | json_field access_token)
AUTH=(-H "Authorization: Bearer $TOKEN")
api() { curl -sS -o /tmp/bench-api.$$ -w '%{http_code}' "${AUTH[@]}" -H 'Content-Type: application/json' "$@"; }

echo "==> creating $N workers (bench-000 ...)"
code=$(api "$API/api/v1/clusters" -d '{"name":"bench-local","bootstrap_servers":["127.0.0.1:9092"]}')
[[ $code == 201 || $code == 409 ]] || { echo "create cluster: HTTP $code $(cat /tmp/bench-api.$$)" >&2; exit 1; }
api "$API/api/v1/clusters" >/dev/null
CLUSTER=$(tr '{' '\n' </tmp/bench-api.$$ | grep '"name":"bench-local"' | json_field id)
ids=()
cleanup() {
  echo "==> deleting the bench workers"
  for id in "${ids[@]}"; do api -X DELETE "$API/api/v1/workers/$id" >/dev/null || true; done
  rm -f /tmp/bench-api.$$
}
trap cleanup EXIT
for i in $(seq -f '%03g' 0 $((N - 1))); do
  code=$(api "$API/api/v1/workers" -d "{\"name\":\"bench-$i\",\"input_topics\":[\"bench.in.$i\",\"bench.common\"],\"output_topics\":[\"bench.out.$i\"],\"cluster_id\":$CLUSTER,\"metadata\":{\"n\":$((10#$i))}}")
  [[ $code == 201 ]] || { echo "create worker bench-$i: HTTP $code $(cat /tmp/bench-api.$$)" >&2; exit 1; }
  ids+=("$(json_field id </tmp/bench-api.$$)")
done
bytes=$(curl -fsS "${AUTH[@]}" "$API/api/v1/workers" | wc -c)

run() { # NAME URL -> "rps p50 p99 errors"
  local out
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "${AUTH[@]}" "$2")
  local rps p50 p99 non2xx sock
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  sock=$(awk -F'[ ,]+' '/Socket errors/ {print $4+$6+$8+$10}' <<<"$out"); sock=${sock:-0}
  echo "$1 $rps $p50 $p99 $((non2xx + sock))"
}
echo "==> wrk -t$THREADS -c$CONNS -d$DURATION (baseline first)"
base=$(run "GET /healthz" "$API/healthz")
list=$(run "GET /api/v1/workers" "$API/api/v1/workers")
printf '\n%-22s %12s %9s %9s %7s\n' ROUTE REQ/S P50 P99 ERRORS
for row in "$base" "$list"; do
  read -r a b rps p50 p99 errs <<<"$row"
  printf '%-22s %12s %9s %9s %7s\n' "$a $b" "$rps" "$p50" "$p99" "$errs"
done
read -r _ _ brps _ _ berr <<<"$base"
read -r _ _ lrps _ _ lerr <<<"$list"
awk -v l="$lrps" -v b="$brps" -v n="$N" -v sz="$bytes" \
  'BEGIN { printf "\n%d workers, %d bytes per list response; list/healthz throughput ratio %.3f\n", n, sz, l / b }'
((berr + lerr == 0)) || { echo "error: $((berr + lerr)) failed requests" >&2; exit 1; }
