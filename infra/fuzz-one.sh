#!/usr/bin/env bash
# infra/fuzz-one.sh PKG NAME FUZZTIME: runs one fuzz target (make fuzz).
#
# Go before 1.27 can fail a duration-bound fuzz run at its very end with a
# bare "context deadline exceeded" although no input failed: a race in its
# fuzzing coordinator (go.dev/issue/75804). A real failure always writes its
# input under PKG/testdata/fuzz/NAME. So a run that fails with that message
# and wrote no new input is run once more; any other failure, or a second
# one, fails.
set -uo pipefail
pkg=$1 name=$2 fuzztime=$3
corpus=$pkg/testdata/fuzz/$name
inputs() { find "$corpus" -type f 2>/dev/null | sort; }
for attempt in 1 2; do
  before=$(inputs)
  out=$(mktemp)
  go test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" "$pkg" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  race=$(grep -c '^    context deadline exceeded$' "$out")
  rm -f "$out"
  ((rc == 0)) && exit 0
  if ((attempt == 1 && race > 0)) && [[ $(inputs) == "$before" ]]; then
    echo "==> $name: 'context deadline exceeded' with no failing input written: Go's fuzz-coordinator race (go.dev/issue/75804); running it once more"
    continue
  fi
  exit "$rc"
done
