#!/usr/bin/env bash
# The local Tributary stack on 127.0.0.1: MariaDB, Redis, the Kafka-protocol
# broker, Nomad, Jaeger, Prometheus and Alertmanager, then the API server,
# which also serves the UI.
#
#   infra/stack.sh up       install what is missing, build, start, wait healthy
#   infra/stack.sh down     stop what this stack started (by pid)
#   infra/stack.sh status   one line per service: state, address, pid, log
#   infra/stack.sh logs [SERVICE]   tail the logs
#   infra/stack.sh env      the environment the tests read, as shell exports
#
# Everything the stack writes lives under one git-ignored state directory
# (TRIBUTARY_STATE_DIR, default .state in the repository). Nomad, Jaeger,
# Prometheus and Alertmanager binaries are cached per machine (TRIBUTARY_CACHE_DIR, default
# ~/.cache/tributary) keyed by their wrapper module's content, so a fresh clone
# on a machine that built them once does not build them again.
#
# A service already answering on its port is used as it is and never stopped.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${TRIBUTARY_STATE_DIR:-$ROOT/.state}
CACHE=${TRIBUTARY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tributary}
BIN=$STATE/bin
LOGS=$STATE/logs
RUN=$STATE/run
DATA=$STATE/data
# The API server's own data — uploaded function binaries, the JWT secret, the
# admin's password — lives beside the database it belongs with, which is the
# machine's MariaDB (/var/lib/mysql), not a clone's state: a fresh clone then
# still finds the binaries the database lists, and logs in with the password
# the database holds.
APIDATA=${TRIBUTARY_API_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/tributary}

MYSQL_PORT=3306
REDIS_PORT=6379
KAFKA_PORT=9092
KAFKA_PARTITIONS=${TRIBUTARY_KAFKA_PARTITIONS:-6}
NOMAD_PORT=4646
JAEGER_QUERY_PORT=16686
JAEGER_OTLP_GRPC_PORT=4317
JAEGER_OTLP_HTTP_PORT=4318
JAEGER_HEALTH_PORT=13133
PROMETHEUS_PORT=9090
ALERTMANAGER_PORT=9093
DB_NAME=tributary
DB_USER=tributary
DB_PASS=${TRIBUTARY_DB_PASSWORD:-tributary}

API_PORT=${TRIBUTARY_API_PORT:-8080}
ADMIN_EMAIL=${TRIBUTARY_ADMIN_EMAIL:-admin@tributary.local}

SERVICES=(mysql redis kafka nomad jaeger prometheus alertmanager api)
# OPTIONAL services do not hold up a full `up`: when their first build is
# still running once the rest (and the demo) is up, they start in the
# background as soon as it ends (`infra/stack.sh await` waits for them).
OPTIONAL=(prometheus alertmanager)

# ---------------------------------------------------------------- output

if [[ -t 1 ]]; then B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' Y=$'\e[33m' N=$'\e[0m'; else B='' G='' R='' Y='' N=''; fi
step() { printf '%s==>%s %s\n' "$B" "$N" "$*"; }
info() { printf '    %s\n' "$*"; }
ok()   { printf '    %sok%s %s\n' "$G" "$N" "$*"; }
warn() { printf '    %swarning:%s %s\n' "$Y" "$N" "$*" >&2; }
die()  { printf '%serror:%s %s\n' "$R" "$N" "$*" >&2; exit 1; }

# fail SERVICE MESSAGE: a start failure, with the service's log file and its tail.
fail() {
  local svc=$1; shift
  printf '%serror:%s %s: %s\n' "$R" "$N" "$svc" "$*" >&2
  if [[ -s $LOGS/$svc.log ]]; then
    printf '       log: %s (last lines below)\n' "$LOGS/$svc.log" >&2
    tail -n 15 "$LOGS/$svc.log" | sed 's/^/       | /' >&2
  fi
  exit 1
}

# ---------------------------------------------------------------- helpers

port_open() { # HOST PORT
  timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# wait_until SERVICE SECONDS DESCRIPTION CMD...: poll CMD until it succeeds,
# fail with the service's log when the deadline passes or its process died.
wait_until() {
  local svc=$1 secs=$2 what=$3; shift 3
  local deadline=$((SECONDS + secs))
  until "$@"; do
    if [[ -f $RUN/$svc.pid ]] && ! kill -0 "$(cat "$RUN/$svc.pid")" 2>/dev/null; then
      rm -f "$RUN/$svc.pid"
      fail "$svc" "exited while starting (waiting for $what)"
    fi
    ((SECONDS < deadline)) || fail "$svc" "not $what after ${secs}s"
    sleep 0.2
  done
}

pid_of() { # SERVICE -> pid of a process this stack started, if alive
  local f=$RUN/$1.pid
  [[ -f $f ]] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"
}

# start_bg SERVICE CMD...: start CMD detached, log to logs/SERVICE.log, record its pid.
start_bg() {
  local svc=$1; shift
  printf '\n--- %s starting: %s\n' "$(date -Is)" "$*" >>"$LOGS/$svc.log"
  setsid "$@" >>"$LOGS/$svc.log" 2>&1 </dev/null &
  echo $! >"$RUN/$svc.pid"
}

# run_long LABEL LOG CMD...: run a long step with a progress line every 20s;
# fail with the log's tail when it fails.
run_long() {
  local label=$1 log=$2 start=$SECONDS pid; shift 2
  "$@" >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if (((SECONDS - start) % 20 == 0)); then info "$label: still running ($((SECONDS - start))s, log $log)"; fi
  done
  if ! wait "$pid"; then
    printf '%serror:%s %s failed after %ss; log: %s\n' "$R" "$N" "$label" $((SECONDS - start)) "$log" >&2
    tail -n 20 "$log" | sed 's/^/       | /' >&2
    exit 1
  fi
  ok "$label ($((SECONDS - start))s)"
}

APT_UPDATED=
apt_install() { # PACKAGE...: install Debian packages without starting their daemons
  [[ $(id -u) == 0 ]] || die "installing $* needs root (run as root, or install them yourself)"
  if [[ -z $APT_UPDATED ]]; then
    run_long "apt-get update" "$LOGS/apt.log" apt-get update
    APT_UPDATED=1
  fi
  # policy-rc.d stops the packages' scripts from starting daemons: the stack
  # starts them itself, with its own options.
  local had_policy=
  [[ -e /usr/sbin/policy-rc.d ]] && had_policy=1
  [[ -n $had_policy ]] || printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  local rc=0
  DEBIAN_FRONTEND=noninteractive run_long "apt-get install $*" "$LOGS/apt.log" \
    apt-get install -y --no-install-recommends "$@" || rc=$?
  [[ -n $had_policy ]] || rm -f /usr/sbin/policy-rc.d
  return $rc
}

need_cmd() { # COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || apt_install "$2"
}

# The third-party binaries the stack builds from the Go module proxy, each
# from its wrapper module in infra/: NAME -> "DIR TARGET [TAGS]". Prometheus
# keeps only the Nomad and static/file discovery plugins (its own build tags);
# promtool is built when a test needs it, not by `up`.
declare -A BUILDS=(
  [nomad]="infra/nomad ."
  [jaeger]="infra/jaeger github.com/jaegertracing/jaeger/cmd/jaeger"
  [prometheus]="infra/prometheus github.com/prometheus/prometheus/cmd/prometheus remove_all_sd,enable_nomad_sd"
  [promtool]="infra/prometheus github.com/prometheus/prometheus/cmd/promtool remove_all_sd,enable_nomad_sd"
  [alertmanager]="infra/alertmanager alertmanager"
)

# cached_path NAME: where NAME's binary is cached, keyed by its wrapper
# module's content, its build line and the Go version.
cached_path() {
  local name=$1 dir target tags key
  read -r dir target tags <<<"${BUILDS[$name]}"
  key=$( (cd "$ROOT/$dir" && cat go.mod go.sum ./*.go ./*.html 2>/dev/null; [[ -z $tags ]] || echo "$tags"; go env GOVERSION) | sha256sum | cut -c1-16)
  echo "$CACHE/$name-$key/$name"
}

# go_build NAME OUT: build NAME into OUT, in its wrapper module, with the
# version its module declares (so `prometheus --version` says which).
go_build() {
  local name=$1 out=$2 dir target tags
  read -r dir target tags <<<"${BUILDS[$name]}"
  cd "$ROOT/$dir"
  if [[ $target == alertmanager ]]; then
    build_alertmanager "$out"
    return
  fi
  local ldflags=
  case $name in prometheus | promtool)
    ldflags="-X github.com/prometheus/common/version.Version=$(cat "$(GOWORK=off go list -m -f '{{.Dir}}' github.com/prometheus/prometheus)/VERSION")" ;;
  esac
  env CGO_ENABLED=1 GOWORK=off go build -trimpath ${tags:+-tags "$tags"} -ldflags "$ldflags" -o "$out" "$target"
}

# build_alertmanager OUT: Alertmanager embeds its web UI (ui/app/dist), which
# its module zip does not carry and which needs Elm and npm to build. So the
# build copies the module's source, puts a one-page placeholder where the UI
# would be (its HTTP API, which Prometheus and the API server use, is whole),
# and builds the copy against the module's own go.sum.
build_alertmanager() {
  local out=$1 mod src
  mod=$(GOWORK=off go mod download -json github.com/prometheus/alertmanager | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [[ -d $mod ]] || { echo "alertmanager's module was not downloaded" >&2; return 1; }
  src=$(dirname "$out")/src
  rm -rf "$src" && cp -r "$mod" "$src" && chmod -R u+w "$src"
  mkdir -p "$src/ui/app/dist/elm" "$src/ui/app/dist/mantine"
  cp ui-placeholder.html "$src/ui/app/dist/elm/index.html"
  cp ui-placeholder.html "$src/ui/app/dist/mantine/index.html"
  (cd "$src" && env GOWORK=off GOFLAGS=-mod=mod go build -trimpath \
    -ldflags "-X github.com/prometheus/common/version.Version=$(cat VERSION)" -o "$out" ./cmd/alertmanager)
  rm -rf "$src"
}

# prebuild NAME...: build the binaries not cached yet in the background, so
# that they overlap the package installs and the services' starts. The
# stack's own builds run one after another (sharing the Go build cache);
# the optional services' builds run beside them at nice 19, on the CPU the
# rest leaves idle (a link is single-threaded; installs and health waits
# use none). Each binary's build pid is in $RUN/build-NAME.pid, where
# another stack.sh (start_later's) finds it; cached_build waits for it.
prebuild() {
  local core=() optional=() name
  for name in "$@"; do
    [[ -x $(cached_path "$name") || -n $(pid_of "build-$name") ]] && continue
    if [[ " ${OPTIONAL[*]} " == *" $name "* ]]; then optional+=("$name"); else core+=("$name"); fi
  done
  ((${#core[@]} == 0)) || build_chain 0 "${core[@]}"
  ((${#optional[@]} == 0)) || build_chain 19 "${optional[@]}"
}

# build_chain NICE NAME...: build each NAME in turn, in the background, at
# niceness NICE.
build_chain() {
  local nice=$1 name out; shift
  (
    ((nice == 0)) || renice -n "$nice" -p "$BASHPID" >/dev/null
    for name in "$@"; do
      out=$(cached_path "$name")
      mkdir -p "$(dirname "$out")"
      (go_build "$name" "$out.tmp") >"$LOGS/build-$name.log" 2>&1 || exit 1
      mv "$out.tmp" "$out"
    done
  ) >>"$LOGS/build-chain.log" 2>&1 </dev/null &
  local pid=$!
  for name in "$@"; do echo "$pid" >"$RUN/build-$name.pid"; done
  info "building $* from source in the background$( ((nice == 0)) || echo " at nice $nice"), in that order (first time on this machine; logs $LOGS/build-NAME.log)"
}

# cached_build NAME: make sure NAME's binary is cached (waiting for its
# background build, or building it now), then link it into the state dir.
cached_build() {
  local name=$1 out log=$LOGS/build-$1.log built_here= start=$SECONDS
  out=$(cached_path "$name")
  while [[ ! -x $out ]]; do
    if [[ -z $(pid_of "build-$name") ]]; then
      # Nothing is building it (or what did has failed): build it here, once.
      if [[ -n $built_here ]]; then
        printf '%serror:%s go build %s failed; log: %s\n' "$R" "$N" "$name" "$log" >&2
        tail -n 20 "$log" 2>/dev/null | sed 's/^/       | /' >&2
        exit 1
      fi
      built_here=1
      step "building $name from source (first time on this machine: minutes)"
      prebuild "$name"
      continue
    fi
    sleep 1
    if (((SECONDS - start) % 20 == 0)); then info "waiting for the build of $name ($((SECONDS - start))s, log $log)"; fi
    [[ ! -x $out ]] || ok "go build $name (waited $((SECONDS - start))s)"
  done
  ln -sf "$out" "$BIN/$name"
}

http_ok() { curl -fs -o /dev/null --max-time 2 "$1"; }

# ---------------------------------------------------------------- services

up_mysql() {
  step "MySQL (MariaDB) on 127.0.0.1:$MYSQL_PORT"
  if port_open 127.0.0.1 $MYSQL_PORT; then
    [[ -n $(pid_of mysql) ]] && info "running (started by this stack)" || info "already running; using it"
  else
    need_cmd mariadbd mariadb-server
    install -d -o mysql -g mysql /run/mysqld
    if [[ ! -d /var/lib/mysql/mysql ]]; then
      run_long "mariadb-install-db" "$LOGS/mysql-install.log" mariadb-install-db --user=mysql --datadir=/var/lib/mysql
    fi
    start_bg mysql mariadbd --user=mysql --bind-address=127.0.0.1 --port=$MYSQL_PORT
    wait_until mysql 60 "accepting connections" port_open 127.0.0.1 $MYSQL_PORT
  fi
  need_cmd mariadb mariadb-client
  ensure_db_user
  ok "database '$DB_NAME', user '$DB_USER'"
}

# ensure_db_user creates the stack's database and user. The user may create
# further databases named tributary_* (tests make a private one each).
ensure_db_user() {
  if mariadb -h127.0.0.1 -P$MYSQL_PORT -u"$DB_USER" -p"$DB_PASS" -e "SELECT 1" "$DB_NAME" >/dev/null 2>&1; then
    return 0
  fi
  local sql="CREATE DATABASE IF NOT EXISTS \`$DB_NAME\`;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON \`${DB_NAME}%\`.* TO '$DB_USER'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`${DB_NAME}%\`.* TO '$DB_USER'@'localhost';"
  # After a Debian install root logs in over the unix socket only.
  mariadb --protocol=socket -uroot -e "$sql" 2>"$LOGS/mysql-setup.log" ||
    fail mysql-setup "cannot create database '$DB_NAME' and user '$DB_USER' (root over the unix socket was refused; create them by hand, or set TRIBUTARY_DB_PASSWORD)"
}

up_redis() {
  step "Redis on 127.0.0.1:$REDIS_PORT"
  if port_open 127.0.0.1 $REDIS_PORT; then
    [[ -n $(pid_of redis) ]] && info "running (started by this stack)" || info "already running; using it"
    return 0
  fi
  need_cmd redis-server redis-server
  mkdir -p "$DATA/redis"
  # AOF with fsync every second: join state survives a restart.
  start_bg redis redis-server --bind 127.0.0.1 -::1 --port $REDIS_PORT \
    --appendonly yes --appendfsync everysec --dir "$DATA/redis" \
    --daemonize no --save ''
  wait_until redis 30 "answering PING" redis_ping
  ok "AOF in $DATA/redis"
}

redis_ping() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT; printf 'PING\r\n' >&3; read -r l <&3; [[ \$l == +PONG* ]]" 2>/dev/null; }

up_kafka() {
  step "Kafka-protocol broker (kfake) on 127.0.0.1:$KAFKA_PORT"
  if port_open 127.0.0.1 $KAFKA_PORT; then
    [[ -n $(pid_of kafka) ]] && info "running (started by this stack)" || info "already running; using it"
    return 0
  fi
  (cd "$ROOT/infra/broker" && GOWORK=off go build -o "$BIN/broker" .) >"$LOGS/build-broker.log" 2>&1 ||
    fail build-broker "go build failed"
  start_bg kafka "$BIN/broker" -host 127.0.0.1 -port $KAFKA_PORT -data-dir "$DATA/kafka" \
    -partitions "$KAFKA_PARTITIONS" -log-level warn
  wait_until kafka 30 "listening" port_open 127.0.0.1 $KAFKA_PORT
  ok "data in $DATA/kafka, $KAFKA_PARTITIONS partitions per new topic"
}

up_nomad() {
  step "Nomad v1.6.3 on 127.0.0.1:$NOMAD_PORT"
  # Python functions (functions/python) run python3 on the Nomad client.
  need_cmd python3 python3
  cached_build nomad
  if http_ok "http://127.0.0.1:$NOMAD_PORT/v1/agent/health"; then
    [[ -n $(pid_of nomad) ]] && info "running (started by this stack)" || info "already running; using it"
    nomad_python_meta
    return 0
  fi
  mkdir -p "$DATA/nomad"
  # raw_exec tasks inherit the agent's environment: start it clean, so that
  # TRIBUTARY_* variables of the caller's shell never reach a worker.
  start_bg nomad env -i PATH="$PATH" HOME="$HOME" LANG=C.UTF-8 \
    "$BIN/nomad" agent -config "$ROOT/infra/nomad/agent.hcl" -data-dir "$DATA/nomad"
  wait_until nomad 60 "healthy" http_ok "http://127.0.0.1:$NOMAD_PORT/v1/agent/health?type=client"
  wait_until nomad 60 "ready to place jobs (node eligible)" nomad_node_ready
  nomad_python_meta
  ok "raw_exec enabled, data in $DATA/nomad"
}

# nomad_python_meta records the client's python3 version in its node meta,
# which Python workers' jobs require (jobs/worker.nomad.hcl). It is dynamic
# node metadata, so a running agent gets it without a restart.
nomad_python_meta() {
  local v
  v=$(python3 -c 'import platform; print(platform.python_version())') || fail nomad "python3 does not run"
  "$BIN/nomad" node meta apply -address="http://127.0.0.1:$NOMAD_PORT" python3="$v" >/dev/null ||
    fail nomad "could not set the node meta python3=$v"
  info "client meta python3=$v (Python workers need it)"
}

nomad_node_ready() {
  curl -fsS --max-time 2 "http://127.0.0.1:$NOMAD_PORT/v1/nodes" 2>/dev/null | grep -q '"Status":"ready"'
}

up_jaeger() {
  step "Jaeger v2 (query 127.0.0.1:$JAEGER_QUERY_PORT, OTLP $JAEGER_OTLP_GRPC_PORT/$JAEGER_OTLP_HTTP_PORT)"
  cached_build jaeger
  if http_ok "http://127.0.0.1:$JAEGER_QUERY_PORT/api/services"; then
    [[ -n $(pid_of jaeger) ]] && info "running (started by this stack)" || info "already running; using it"
    return 0
  fi
  start_bg jaeger "$BIN/jaeger" --config "$ROOT/infra/jaeger/config.yaml"
  wait_until jaeger 60 "healthy" http_ok "http://127.0.0.1:$JAEGER_HEALTH_PORT/status"
  wait_until jaeger 30 "answering queries" http_ok "http://127.0.0.1:$JAEGER_QUERY_PORT/api/services"
  ok "in-memory storage"
}

up_prometheus() {
  step "Prometheus on 127.0.0.1:$PROMETHEUS_PORT (scrapes every worker through Nomad's service discovery)"
  cached_build prometheus
  if http_ok "http://127.0.0.1:$PROMETHEUS_PORT/-/ready"; then
    [[ -n $(pid_of prometheus) ]] && info "running (started by this stack)" || info "already running; using it"
    return 0
  fi
  local dir=$DATA/prometheus
  mkdir -p "$dir/tsdb"
  # The shipped config, with this stack's ports and the rules' absolute path.
  sed -e "s#127.0.0.1:8080#127.0.0.1:$API_PORT#" -e "s#127.0.0.1:4646#127.0.0.1:$NOMAD_PORT#" \
    -e "s#rules/\*.yml#$ROOT/infra/prometheus/rules/*.yml#" \
    "$ROOT/infra/prometheus/prometheus.yml" >"$dir/prometheus.yml"
  start_bg prometheus "$BIN/prometheus" --config.file="$dir/prometheus.yml" \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" --storage.tsdb.path="$dir/tsdb" \
    --storage.tsdb.retention.time=15d --web.enable-lifecycle
  wait_until prometheus 60 "ready" http_ok "http://127.0.0.1:$PROMETHEUS_PORT/-/ready"
  ok "data in $dir/tsdb (15 days); HTTP API only (no web UI assets)"
}

up_alertmanager() {
  step "Alertmanager on 127.0.0.1:$ALERTMANAGER_PORT (routes alerts to the API server)"
  cached_build alertmanager
  alertmanager_token >/dev/null
  if http_ok "http://127.0.0.1:$ALERTMANAGER_PORT/-/ready"; then
    [[ -n $(pid_of alertmanager) ]] && info "running (started by this stack)" || info "already running; using it"
    return 0
  fi
  local dir=$DATA/alertmanager
  mkdir -p "$dir/data"
  sed -e "s#127.0.0.1:8080#127.0.0.1:$API_PORT#" "$ROOT/infra/alertmanager/alertmanager.yml" >"$dir/alertmanager.yml"
  (umask 077 && alertmanager_token >"$dir/alertmanager-token")
  # --cluster.listen-address= turns off the high-availability gossip (one instance).
  start_bg alertmanager "$BIN/alertmanager" --config.file="$dir/alertmanager.yml" \
    --web.listen-address="127.0.0.1:$ALERTMANAGER_PORT" --storage.path="$dir/data" --cluster.listen-address=
  wait_until alertmanager 60 "ready" http_ok "http://127.0.0.1:$ALERTMANAGER_PORT/-/ready"
  ok "webhook to http://127.0.0.1:$API_PORT/api/v1/alerts/webhook"
}

# alertmanager_token prints the bearer token Alertmanager sends to the API
# server's webhook, generated once and kept with the API server's secrets.
alertmanager_token() {
  local f=$APIDATA/alertmanager-token
  [[ -s $f ]] || (mkdir -p "$APIDATA" && umask 077 && head -c 24 /dev/urandom | base64 -w0 | tr '+/' '-_' >"$f")
  cat "$f"
}

# cmd_promtool builds promtool (once per machine) and prints its path.
cmd_promtool() {
  mkdir -p "$BIN" "$LOGS" "$RUN" "$CACHE"
  cached_build promtool >&2
  echo "$BIN/promtool"
}

# up_ui builds frontend/dist when the UI's sources changed since the last
# build (a hash of them is kept beside the state), installing its npm
# packages first when package-lock.json changed.
up_ui() {
  local fe=$ROOT/frontend
  [[ -f $fe/package.json ]] || return 0
  local lock_key src_key
  lock_key=$(cat "$fe/package.json" "$fe/package-lock.json" 2>/dev/null | sha256sum | cut -c1-16)
  if [[ ! -d $fe/node_modules || $(cat "$RUN/ui-deps.key" 2>/dev/null) != "$lock_key" ]]; then
    (cd "$fe" && run_long "npm ci (UI dependencies)" "$LOGS/npm-ci.log" npm ci --no-audit --no-fund)
    echo "$lock_key" >"$RUN/ui-deps.key"
  fi
  # (public/ may not exist: find's complaint must not end the script)
  src_key=$( (cd "$fe" && { find src public index.html docs.html vite.config.* tsconfig*.json package-lock.json -type f 2>/dev/null || true; } |
    sort | xargs cat) | sha256sum | cut -c1-16)
  if [[ ! -f $fe/dist/index.html || $(cat "$RUN/ui-build.key" 2>/dev/null) != "$src_key" ]]; then
    (cd "$fe" && run_long "build the UI (vite)" "$LOGS/build-ui.log" npm run build)
    echo "$src_key" >"$RUN/ui-build.key"
  else
    info "UI unchanged since its last build"
  fi
}

# api_env: the API server's environment, one VAR=value per line.
api_env() {
  local dsn="$DB_USER:$DB_PASS@tcp(127.0.0.1:$MYSQL_PORT)/$DB_NAME"
  cat <<EOF2
TRIBUTARY_HTTP_ADDR=127.0.0.1:$API_PORT
TRIBUTARY_MYSQL_DSN=$dsn
TRIBUTARY_WORKER_MYSQL_DSN=$dsn
TRIBUTARY_JWT_SECRET=$(cat "$APIDATA/jwt-secret")
TRIBUTARY_DATA_DIR=$APIDATA
TRIBUTARY_LOG_DIR=$LOGS/api
TRIBUTARY_UI_DIR=$ROOT/frontend/dist
TRIBUTARY_REDIS_ADDR=127.0.0.1:$REDIS_PORT
NOMAD_ADDR=http://127.0.0.1:$NOMAD_PORT
TRIBUTARY_JOB_TEMPLATE=$ROOT/jobs/worker.nomad.hcl
TRIBUTARY_JAEGER_QUERY_URL=http://127.0.0.1:$JAEGER_QUERY_PORT
OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$JAEGER_OTLP_HTTP_PORT
TRIBUTARY_PROMETHEUS_URL=http://127.0.0.1:$PROMETHEUS_PORT
TRIBUTARY_ALERTMANAGER_TOKEN=$(alertmanager_token)
TRIBUTARY_CORS_ORIGINS=http://127.0.0.1:5173,http://localhost:5173
EOF2
}

up_api() {
  step "API server and UI on http://127.0.0.1:$API_PORT"
  up_ui
  if [[ -z $(pid_of api) ]] && port_open 127.0.0.1 $API_PORT; then
    info "port $API_PORT already answers; using that server"
    return 0
  fi
  (cd "$ROOT" && go build -o "$BIN/apiserver.new" ./apiserver/cmd/apiserver) >"$LOGS/build-api.log" 2>&1 ||
    fail build-api "go build failed"
  stop_pid api # a server this stack started earlier is replaced by the new build
  mv "$BIN/apiserver.new" "$BIN/apiserver"
  mkdir -p "$APIDATA"
  [[ -s $APIDATA/jwt-secret ]] || (umask 077 && head -c 48 /dev/urandom | base64 -w0 >"$APIDATA/jwt-secret")
  local -a envv
  mapfile -t envv < <(api_env)
  start_bg api env -i PATH="$PATH" HOME="$HOME" LANG=C.UTF-8 "${envv[@]}" "$BIN/apiserver"
  wait_until api 60 "ready" http_ok "http://127.0.0.1:$API_PORT/readyz"
  ensure_admin
}

# ensure_admin makes sure $ADMIN_EMAIL can log in with the password kept in
# the state directory (generated once): it registers the first user of an
# empty installation, and when the database has users already (another
# clone's stack, or a lost state directory) but that password does not
# work, it sets it with `apiserver set-password`, straight in the database.
ensure_admin() {
  local pw_file=$APIDATA/admin-password code
  [[ -s $pw_file ]] || (umask 077 && head -c 18 /dev/urandom | base64 -w0 | tr '+/' '-_' >"$pw_file")
  local body="{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$(cat "$pw_file")\"}"
  code=$(curl -s -o "$LOGS/admin-register.json" -w '%{http_code}' --max-time 10 \
    -H 'Content-Type: application/json' "http://127.0.0.1:$API_PORT/api/v1/auth/register" -d "$body") || code=000
  if [[ $code == 201 ]]; then
    ok "first admin created: $ADMIN_EMAIL"
  elif [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
    "http://127.0.0.1:$API_PORT/api/v1/auth/login" -d "$body") == 200 ]]; then
    info "admin $ADMIN_EMAIL exists"
  else
    env TRIBUTARY_MYSQL_DSN="$DB_USER:$DB_PASS@tcp(127.0.0.1:$MYSQL_PORT)/$DB_NAME" \
      "$BIN/apiserver" set-password "$ADMIN_EMAIL" <"$pw_file" >>"$LOGS/api.log" 2>&1 ||
      fail api "could not set the admin's password (apiserver set-password)"
    ok "admin $ADMIN_EMAIL: password set to the one in $pw_file"
  fi
  ok "log in at http://127.0.0.1:$API_PORT/ as $ADMIN_EMAIL, password in $pw_file"
}

# ---------------------------------------------------------------- stop

stop_pid() { # SERVICE [SECONDS]: TERM, wait, then KILL, a process this stack started
  local svc=$1 secs=${2:-20} pid
  pid=$(pid_of "$svc") || { rm -f "$RUN/$svc.pid"; return 0; }
  step "stopping $svc (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + secs))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    warn "$svc did not stop within ${secs}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/$svc.pid"
}

# stop_nomad stops and purges every job, collects garbage and only then stops
# the agent: otherwise tasks outlive it and leave tmpfs mounts in its data dir.
stop_nomad() {
  local pid
  if pid=$(pid_of nomad); then
    local addr=http://127.0.0.1:$NOMAD_PORT jobs
    jobs=$(curl -fsS --max-time 5 "$addr/v1/jobs" 2>/dev/null | grep -o '"ID":"[^"]*"' | cut -d'"' -f4 || true)
    for job in $jobs; do
      info "stopping and purging Nomad job $job"
      curl -fsS --max-time 10 -X DELETE "$addr/v1/job/$job?purge=true" >/dev/null || warn "could not purge job $job"
    done
    if [[ -n $jobs ]]; then
      local deadline=$((SECONDS + 30))
      while curl -fsS --max-time 2 "$addr/v1/allocations" 2>/dev/null | grep -q '"ClientStatus":"running"' && ((SECONDS < deadline)); do sleep 0.5; done
    fi
    curl -fsS --max-time 10 -X PUT "$addr/v1/system/gc" >/dev/null || true
  fi
  stop_pid nomad 30
  # Anything still mounted below the data dir is a leftover of a killed agent.
  local m
  for m in $(awk -v d="$DATA/nomad" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r); do
    warn "unmounting leftover $m"
    umount "$m" || umount -l "$m" || true
  done
}

# ---------------------------------------------------------------- commands

cmd_up() {
  mkdir -p "$BIN" "$LOGS" "$RUN" "$DATA" "$CACHE"
  local started=$SECONDS svc
  command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
  local svcs=("$@")
  ((${#svcs[@]})) || svcs=("${SERVICES[@]}")
  # Builds first, in the background: they overlap the installs and services.
  local want=()
  for svc in "${svcs[@]}"; do [[ -n ${BUILDS[$svc]:-} ]] && want+=("$svc"); done
  ((${#want[@]} == 0)) || prebuild "${want[@]}"
  local later=()
  for svc in "${svcs[@]}"; do
    declare -F "up_$svc" >/dev/null || die "unknown service '$svc' (one of: ${SERVICES[*]})"
    # In a full up, an optional service whose first build is still running
    # waits until the rest is up.
    if (($# == 0)) && [[ " ${OPTIONAL[*]} " == *" $svc "* ]] && [[ ! -x $(cached_path "$svc") ]]; then
      later+=("$svc")
      continue
    fi
    "up_$svc"
  done
  # A full `up` ends with the demo pipeline deployed (TRIBUTARY_DEMO=0 skips it).
  (($#)) || [[ ${TRIBUTARY_DEMO:-1} == 0 ]] || up_demo
  if ((${#later[@]})); then
    start_later "${later[@]}"
  fi
  step "stack up in $((SECONDS - started))s"
  cmd_status || ((${#later[@]}))
  (($#)) || closing_lines
}

# start_later SERVICE...: the optional services whose first build has not
# ended, started by a detached stack.sh as soon as it does, so that the rest
# of the stack does not wait for them.
start_later() {
  # One at a time: a second `up` while the first still waits finds it.
  if [[ -z $(pid_of start-later) ]]; then
    setsid "$ROOT/infra/stack.sh" up "$@" >>"$LOGS/start-later.log" 2>&1 </dev/null &
    echo $! >"$RUN/start-later.pid"
  fi
  step "$* still building: they start in the background when built (log $LOGS/start-later.log;" \
    "infra/stack.sh await $* waits for them; make test does)"
}

# cmd_await SERVICE...: wait until each service is healthy, while it is
# being built or started in the background (start_later); fail when nothing
# is building or starting it any more.
cmd_await() {
  local svc start=$SECONDS
  for svc in "$@"; do
    until svc_healthy "$svc"; do
      if [[ -z $(pid_of start-later) ]] && ! svc_healthy "$svc"; then
        [[ -s $LOGS/start-later.log ]] && tail -n 15 "$LOGS/start-later.log" | sed 's/^/       | /' >&2
        die "$svc is not running, and nothing is starting it (infra/stack.sh up $svc starts it)"
      fi
      sleep 1
      if (((SECONDS - start) % 30 == 0)); then info "waiting for $svc to be built and started ($((SECONDS - start))s; log $LOGS/start-later.log)"; fi
    done
    ok "$svc up ($(svc_addr "$svc"))"
  done
}

# up_demo registers the cluster and the functions and deploys the demo
# pipeline through the API (infra/demo); it waits until every worker is healthy.
up_demo() {
  step "demo pipeline: documents.raw → raw-data → language-detector + summarizer → enricher → documents.enriched; keywords (Python) → documents.keywords"
  (cd "$ROOT" && eval "$(cmd_env)" && go run ./infra/demo/cmd/demo -repo "$ROOT") ||
    fail api "the demo pipeline could not be deployed (the lines above say why)"
}

closing_lines() {
  cat <<EOF

${B}Tributary is up.${N}
  UI       http://127.0.0.1:$API_PORT/   (log in as $ADMIN_EMAIL, password: cat $APIDATA/admin-password)
  API      http://127.0.0.1:$API_PORT/docs
  Jaeger   http://127.0.0.1:$JAEGER_QUERY_PORT/
  Prometheus http://127.0.0.1:$PROMETHEUS_PORT/api/v1/targets   Alertmanager http://127.0.0.1:$ALERTMANAGER_PORT/api/v2/alerts
  Load     go run ./infra/loadgen -topics documents.raw -rate 50 -count 5000 -await documents.enriched
EOF
}

# cmd_browser installs Debian's Chromium for the UI's end-to-end tests
# (playwright-core drives it; tools that download their own browser
# cannot run here) and prints its path.
cmd_browser() {
  mkdir -p "$LOGS"
  command -v chromium >/dev/null 2>&1 || apt_install chromium
  command -v chromium
}

cmd_down() {
  stop_pid start-later
  stop_pid api
  stop_pid alertmanager
  stop_pid prometheus
  stop_pid jaeger
  stop_nomad
  stop_pid kafka
  stop_pid redis
  stop_pid mysql 60
  step "stack stopped (services this stack did not start were left running)"
}

svc_addr() {
  case $1 in
    mysql) echo "127.0.0.1:$MYSQL_PORT" ;;
    redis) echo "127.0.0.1:$REDIS_PORT" ;;
    kafka) echo "127.0.0.1:$KAFKA_PORT" ;;
    nomad) echo "http://127.0.0.1:$NOMAD_PORT" ;;
    jaeger) echo "http://127.0.0.1:$JAEGER_QUERY_PORT" ;;
    prometheus) echo "http://127.0.0.1:$PROMETHEUS_PORT" ;;
    alertmanager) echo "http://127.0.0.1:$ALERTMANAGER_PORT" ;;
    api) echo "http://127.0.0.1:$API_PORT" ;;
  esac
}

svc_healthy() {
  case $1 in
    mysql) port_open 127.0.0.1 $MYSQL_PORT ;;
    redis) redis_ping ;;
    kafka) port_open 127.0.0.1 $KAFKA_PORT ;;
    nomad) http_ok "http://127.0.0.1:$NOMAD_PORT/v1/agent/health" ;;
    jaeger) http_ok "http://127.0.0.1:$JAEGER_QUERY_PORT/api/services" ;;
    prometheus) http_ok "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" ;;
    alertmanager) http_ok "http://127.0.0.1:$ALERTMANAGER_PORT/-/ready" ;;
    api) http_ok "http://127.0.0.1:$API_PORT/healthz" ;;
  esac
}

cmd_status() {
  local svc state pid all=0
  printf '%-12s %-9s %-24s %-8s %s\n' SERVICE STATE ADDRESS PID LOG
  for svc in "${SERVICES[@]}"; do
    pid=$(pid_of "$svc") || pid=-
    if svc_healthy "$svc"; then
      state=up
      [[ $pid == - ]] && pid=external
    else
      state=down
      all=1
    fi
    printf '%-12s %-9s %-24s %-8s %s\n' "$svc" "$state" "$(svc_addr "$svc")" "$pid" "$LOGS/$svc.log"
  done
  return $all
}

cmd_logs() {
  local svc=${1:-}
  if [[ -n $svc ]]; then
    [[ -f $LOGS/$svc.log ]] || die "no log for '$svc' in $LOGS"
    tail -n 100 -F "$LOGS/$svc.log"
  else
    tail -n 20 -F "$LOGS"/*.log
  fi
}

cmd_env() {
  cat <<EOF
export TRIBUTARY_MYSQL_DSN='$DB_USER:$DB_PASS@tcp(127.0.0.1:$MYSQL_PORT)/$DB_NAME?parseTime=true&multiStatements=true'
export TRIBUTARY_REDIS_ADDR=127.0.0.1:$REDIS_PORT
export TRIBUTARY_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
export NOMAD_ADDR=http://127.0.0.1:$NOMAD_PORT
export TRIBUTARY_JAEGER_QUERY_URL=http://127.0.0.1:$JAEGER_QUERY_PORT
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$JAEGER_OTLP_HTTP_PORT
export TRIBUTARY_NOMAD_BIN=$BIN/nomad
export TRIBUTARY_BROKER_BIN=$BIN/broker
export TRIBUTARY_API_URL=http://127.0.0.1:$API_PORT
export TRIBUTARY_PROMETHEUS_URL=http://127.0.0.1:$PROMETHEUS_PORT
export TRIBUTARY_ALERTMANAGER_URL=http://127.0.0.1:$ALERTMANAGER_PORT
export TRIBUTARY_ALERTMANAGER_TOKEN=$(alertmanager_token)
export TRIBUTARY_PROMETHEUS_BIN=$BIN/prometheus
export TRIBUTARY_ALERTMANAGER_BIN=$BIN/alertmanager
export TRIBUTARY_ADMIN_EMAIL=$ADMIN_EMAIL
export TRIBUTARY_ADMIN_PASSWORD_FILE=$APIDATA/admin-password
EOF
}

usage() {
  cat <<EOF
Usage: infra/stack.sh COMMAND

The local Tributary stack, every service on 127.0.0.1.

Commands:
  up [SERVICE]   install what is missing, build, start every service, wait until healthy
  down           stop the services this stack started (Nomad jobs are purged first)
  status         state, address, pid and log of each service (exit 1 if one is down)
  logs [SERVICE] follow the logs (mysql, redis, kafka, nomad, jaeger, prometheus, alertmanager, api)
  env            print the environment the tests and tools read
  await SERVICE  wait until services started in the background (prometheus, alertmanager) are healthy
  promtool       build promtool (once per machine) and print its path
  browser        install Debian's Chromium (for the UI's end-to-end tests) and print its path

Environment:
  TRIBUTARY_STATE_DIR         state directory (default: $ROOT/.state)
  TRIBUTARY_CACHE_DIR         machine-wide build cache (default: ~/.cache/tributary)
  TRIBUTARY_KAFKA_PARTITIONS  partitions of auto-created topics (default: 6)
  TRIBUTARY_DB_PASSWORD       password of the '$DB_USER' database user (default: tributary)
  TRIBUTARY_API_PORT          port of the API server and UI (default: 8080)
  TRIBUTARY_ADMIN_EMAIL       the first admin's login (default: admin@tributary.local)
  TRIBUTARY_API_DATA_DIR      the API server's binaries, JWT secret and admin password (default: ~/.local/share/tributary)
  TRIBUTARY_DEMO              0 to skip deploying the demo pipeline at the end of a full up
EOF
}

case ${1:-} in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  logs) cmd_logs "${2:-}" ;;
  env) cmd_env ;;
  browser) cmd_browser ;;
  promtool) cmd_promtool ;;
  await) shift; cmd_await "$@" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
