#!/usr/bin/env bash
# Runs the README's "Your first function" steps, block by block, exactly as
# written, in a scratch clone of the repository, against the running stack,
# then checks the new worker processed documents. It removes the worker and
# the function version it made, before and after, so it can run again.
#
#   infra/first-function-test.sh [SECTION [NAME]]
#
# SECTION is the README's heading ("Your first function"), NAME the worker
# and function its steps create ("shout"): the Python section is
# infra/first-function-test.sh "Your first Python function" shout-py.
set -euo pipefail
SECTION=${1:-Your first function}
NAME=${2:-shout}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
eval "$("$ROOT/infra/stack.sh" env)"
API=$TRIBUTARY_API_URL
scratch=$(mktemp -d)
trap 'cleanup; rm -rf "$scratch"' EXIT

token() {
  curl -fsS "$API/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$TRIBUTARY_ADMIN_EMAIL\",\"password\":\"$(cat "$TRIBUTARY_ADMIN_PASSWORD_FILE")\"}" |
    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}
cleanup() { # the worker $NAME and function $NAME 1.0.0, if they exist
  local t id
  t=$(token)
  id=$(curl -fsS -H "Authorization: Bearer $t" "$API/api/v1/workers" | tr '}' '\n' | grep "\"name\":\"$NAME\"" |
    sed -n "s/.*\"id\":\\([0-9]*\\),\"name\":\"$NAME\".*/\\1/p" | head -1) || true
  if [[ -n $id ]]; then
    curl -s -o /dev/null -X POST -H "Authorization: Bearer $t" "$API/api/v1/workers/$id/stop"
    curl -s -o /dev/null -X DELETE -H "Authorization: Bearer $t" "$API/api/v1/workers/$id"
  fi
  curl -s -o /dev/null -X DELETE -H "Authorization: Bearer $t" "$API/api/v1/functions/$NAME/1.0.0"
}
cleanup

# The ```sh blocks of the section, in order, as one script.
steps=$scratch/steps.sh
awk -v h="## $SECTION" '$0 == h {on=1; next} on && /^## / {on=0} on && /^```sh$/ {code=1; next} code && /^```$/ {code=0; next} code' \
  "$ROOT/README.md" >"$steps"
[[ -s $steps ]] || { echo "no steps found in the README's section \"$SECTION\"" >&2; exit 1; }
echo "check" >>"$steps"
check() { # appended to the steps: they leave $TOKEN and $ID set
  local emitted
  for _ in $(seq 30); do
    emitted=$(curl -fsS -H "Authorization: Bearer $TOKEN" "$API/api/v1/workers/$ID/metrics" |
      grep -o '"emitted":[0-9.]*' | cut -d: -f2 | awk '{s += $1} END {print int(s)}')
    if ((emitted >= 20)); then
      echo "ok: the $NAME worker emitted $emitted documents"
      return 0
    fi
    sleep 2
  done
  echo "the $NAME worker emitted ${emitted:-0} documents, want at least 20" >&2
  return 1
}
export -f check
export NAME
git clone -q "$ROOT" "$scratch/repo"
cd "$scratch/repo"
echo "==> running the README's '$SECTION' steps in $scratch/repo"
bash -euo pipefail "$steps"
