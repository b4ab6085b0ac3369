#!/usr/bin/env bash
# A multi-node topology on this one machine, for the fault scenarios of
# infra/demo/cluster_*_test.go (make chaos-cluster). Everything binds
# 127.0.0.1, on ports 16000-16999 apart from the local stack's:
#
#   Redis Cluster   3 masters + 3 replicas, 127.0.0.1:16379-16384
#   Kafka protocol  one broker process serving 3 brokers, 127.0.0.1:16092-16094,
#                   its control API (remove/add a broker) on 127.0.0.1:16090
#   Nomad           one server (http 16646) and two clients, client-1 (http 16656)
#                   and client-2 (http 16666), each with its own data dir, name,
#                   meta and dynamic port range
#
#   infra/cluster.sh up       start what is not running (the Redis Cluster is created once)
#   infra/cluster.sh down     purge the Nomad jobs, stop everything, delete the topology's data
#   infra/cluster.sh status   one line per process: state, address, pid, log
#   infra/cluster.sh env      the addresses the tests read, as shell exports
#
# It starts no service of the local stack and builds nothing big: Nomad is
# the binary `make up` built (TRIBUTARY_NOMAD_BIN, else the stack's
# .state/bin/nomad of this checkout); the broker is built from this
# checkout's infra/broker (a few seconds), since the flags it needs are its
# own. Redis is Debian's redis-server, installed when missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CSTATE=${TRIBUTARY_CLUSTER_DIR:-$ROOT/.state/cluster}
RUN=$CSTATE/run
LOGS=$CSTATE/logs
DATA=$CSTATE/data

REDIS_PORTS=(16379 16380 16381 16382 16383 16384)
# How long a master may be unreachable before its replica takes over. Short,
# so a scenario sees the failover within seconds; production keeps 15 s.
REDIS_NODE_TIMEOUT_MS=2000
KAFKA_PORT=16092
KAFKA_BROKERS=3
KAFKA_CONTROL_PORT=16090
KAFKA_PARTITIONS=6
NOMAD_SERVER_PORTS=(16646 16647 16648) # http rpc serf
NOMAD_CLIENTS=(client-1 client-2)
# Per client: http, rpc, serf ports, then the first and last dynamic port
# its allocations get (disjoint, since both clients share one network).
declare -A NOMAD_CLIENT_PORTS=([client-1]="16656 16657 16658 16100 16199" [client-2]="16666 16667 16668 16200 16299")
# The API server the scenarios run against (its own database and port).
API_ADDR=127.0.0.1:18081

if [[ -t 1 ]]; then B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'; else B='' G='' R='' N=''; fi
step() { printf '%s==>%s %s\n' "$B" "$N" "$*"; }
info() { printf '    %s\n' "$*"; }
ok() { printf '    %sok%s %s\n' "$G" "$N" "$*"; }
die() { printf '%serror:%s %s\n' "$R" "$N" "$*" >&2; exit 1; }

# ---------------------------------------------------------------- helpers

listening() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

alive() { # NAME -> pid of the process this script started as NAME, if it runs
  local f=$RUN/$1.pid
  [[ -f $f ]] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"
}

spawn() { # NAME CMD...: detached, logging to logs/NAME.log, pid in run/NAME.pid
  local name=$1; shift
  printf '\n--- %s starting: %s\n' "$(date -Is)" "$*" >>"$LOGS/$name.log"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

# await NAME SECONDS WHAT CMD...: poll CMD; on timeout or the process's death,
# fail with the tail of its log.
await() {
  local name=$1 secs=$2 what=$3; shift 3
  local deadline=$((SECONDS + secs))
  until "$@"; do
    if [[ -f $RUN/$name.pid ]] && ! kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null; then
      tail -n 15 "$LOGS/$name.log" >&2 || true
      die "$name exited while starting (waiting for $what); log $LOGS/$name.log"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 15 "$LOGS/$name.log" >&2 || true
      die "$name not $what after ${secs}s; log $LOGS/$name.log"
    fi
    sleep 0.2
  done
}

halt() { # NAME [SECONDS]: TERM, wait, then KILL a process this script started
  local name=$1 secs=${2:-20} pid
  pid=$(alive "$name") || { rm -f "$RUN/$name.pid"; return 0; }
  info "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  kill -CONT "$pid" 2>/dev/null || true # a scenario may have left it stopped
  local deadline=$((SECONDS + secs))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$RUN/$name.pid"
}

nomad_bin() {
  local bin=${TRIBUTARY_NOMAD_BIN:-$ROOT/.state/bin/nomad}
  [[ -x $bin ]] || die "no Nomad binary at $bin: run \`make up\` once (it builds Nomad v1.6.3), or set TRIBUTARY_NOMAD_BIN"
  echo "$bin"
}

rcli() { redis-cli -h 127.0.0.1 -p "$@"; }

# ---------------------------------------------------------------- Redis Cluster

up_redis() {
  step "Redis Cluster: 3 masters + 3 replicas on 127.0.0.1:${REDIS_PORTS[0]}-${REDIS_PORTS[-1]} (node timeout ${REDIS_NODE_TIMEOUT_MS} ms)"
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    info "installing redis-server (Debian package)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >"$LOGS/apt.log" 2>&1 ||
      { apt-get update -q >>"$LOGS/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >>"$LOGS/apt.log" 2>&1; } ||
      die "apt-get install redis-server failed; log $LOGS/apt.log"
  fi
  local port
  for port in "${REDIS_PORTS[@]}"; do
    if listening "$port"; then continue; fi
    mkdir -p "$DATA/redis-$port"
    # nodes.conf keeps the node's identity and role, so a restarted node
    # rejoins as what it was (or as the replica of whoever took over).
    # cluster-replica-validity-factor 0: a replica always may take over,
    # however long it was cut off, rather than leave its slots unserved.
    spawn "redis-$port" redis-server --bind 127.0.0.1 --port "$port" --dir "$DATA/redis-$port" \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout $REDIS_NODE_TIMEOUT_MS \
      --cluster-replica-validity-factor 0 --appendonly yes --appendfsync everysec --save '' --daemonize no
  done
  for port in "${REDIS_PORTS[@]}"; do
    await "redis-$port" 30 "answering PING" bash -c "[[ \$(redis-cli -h 127.0.0.1 -p $port ping 2>/dev/null) == PONG ]]"
  done
  if [[ $(rcli "${REDIS_PORTS[0]}" cluster info | tr -d '\r' | awk -F: '$1 == "cluster_known_nodes" {print $2}') -lt ${#REDIS_PORTS[@]} ]]; then
    info "creating the cluster (redis-cli --cluster create … --cluster-replicas 1)"
    local addrs=()
    for port in "${REDIS_PORTS[@]}"; do addrs+=("127.0.0.1:$port"); done
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >"$LOGS/redis-create.log" 2>&1 ||
      { tail -n 20 "$LOGS/redis-create.log" >&2; die "redis-cli --cluster create failed; log $LOGS/redis-create.log"; }
  fi
  await "redis-${REDIS_PORTS[0]}" 60 "cluster_state:ok on every node" redis_cluster_ok
  ok "$(redis_roles)"
}

redis_cluster_ok() {
  local port
  for port in "${REDIS_PORTS[@]}"; do
    rcli "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  done
  # Every master has its replica attached again (after a restart too).
  [[ $(rcli "${REDIS_PORTS[0]}" cluster nodes | awk '$3 ~ /slave/ && $3 !~ /fail/' | wc -l) -ge 3 ]]
}

redis_roles() {
  rcli "${REDIS_PORTS[0]}" cluster nodes 2>/dev/null | awk '{split($2, a, "@"); r = ($3 ~ /master/) ? "master" : "replica"; print a[1] " " r}' |
    sort | awk '{printf "%s%s %s", sep, $1, $2; sep = ", "}'
}

# ---------------------------------------------------------------- broker

up_kafka() {
  step "Kafka-protocol broker: $KAFKA_BROKERS brokers on 127.0.0.1:$KAFKA_PORT-$((KAFKA_PORT + KAFKA_BROKERS - 1)), control API on 127.0.0.1:$KAFKA_CONTROL_PORT"
  if alive kafka >/dev/null || listening $KAFKA_PORT; then
    info "running"
    return 0
  fi
  mkdir -p "$CSTATE/bin" "$DATA/kafka"
  (cd "$ROOT/infra/broker" && GOWORK=off go build -o "$CSTATE/bin/broker" .) >"$LOGS/build-broker.log" 2>&1 ||
    { tail -n 20 "$LOGS/build-broker.log" >&2; die "go build infra/broker failed"; }
  spawn kafka "$CSTATE/bin/broker" -host 127.0.0.1 -port $KAFKA_PORT -brokers $KAFKA_BROKERS \
    -control-addr 127.0.0.1:$KAFKA_CONTROL_PORT -data-dir "$DATA/kafka" -partitions $KAFKA_PARTITIONS -log-level warn
  await kafka 30 "serving its control API" curl -fs -o /dev/null --max-time 1 "http://127.0.0.1:$KAFKA_CONTROL_PORT/brokers"
  ok "data in $DATA/kafka; $(curl -fs "http://127.0.0.1:$KAFKA_CONTROL_PORT/brokers")"
}

# ---------------------------------------------------------------- Nomad

nomad_server_config() {
  cat <<EOF
name                 = "tributary-cluster-server"
datacenter           = "dc1"
bind_addr            = "127.0.0.1"
disable_update_check = true
log_level            = "INFO"
data_dir             = "$DATA/nomad-server"
advertise {
  http = "127.0.0.1"
  rpc  = "127.0.0.1"
  serf = "127.0.0.1"
}
ports {
  http = ${NOMAD_SERVER_PORTS[0]}
  rpc  = ${NOMAD_SERVER_PORTS[1]}
  serf = ${NOMAD_SERVER_PORTS[2]}
}
server {
  enabled          = true
  bootstrap_expect = 1
  # A client that misses its heartbeat is down within about 2 s (its TTL
  # of at least 1 s, plus 1 s of grace), and its allocations are lost
  # and placed elsewhere: seconds, where Nomad's defaults take 10 s or more.
  min_heartbeat_ttl = "1s"
  heartbeat_grace   = "1s"
}
EOF
}

nomad_client_config() { # NAME
  local name=$1 http rpc serf dmin dmax
  read -r http rpc serf dmin dmax <<<"${NOMAD_CLIENT_PORTS[$name]}"
  cat <<EOF
name                 = "tributary-cluster-$name"
datacenter           = "dc1"
bind_addr            = "127.0.0.1"
disable_update_check = true
log_level            = "INFO"
data_dir             = "$DATA/nomad-$name"
advertise {
  http = "127.0.0.1"
  rpc  = "127.0.0.1"
  serf = "127.0.0.1"
}
ports {
  http = $http
  rpc  = $rpc
  serf = $serf
}
client {
  enabled           = true
  servers           = ["127.0.0.1:${NOMAD_SERVER_PORTS[1]}"]
  network_interface = "lo"
  min_dynamic_port  = $dmin
  max_dynamic_port  = $dmax
  cgroup_parent     = "/tributary-cluster-$name"
  meta {
    tributary_node = "$name"
    rack           = "rack-${name#client-}"
  }
  options = { "driver.denylist" = "docker" }
  artifact { disable_filesystem_isolation = true }
}
plugin "raw_exec" {
  config { enabled = true }
}
EOF
}

up_nomad() {
  local bin
  bin=$(nomad_bin)
  step "Nomad: a server on 127.0.0.1:${NOMAD_SERVER_PORTS[0]}, clients ${NOMAD_CLIENTS[*]} ($bin)"
  mkdir -p "$CSTATE/nomad"
  if ! alive nomad-server >/dev/null; then
    listening "${NOMAD_SERVER_PORTS[0]}" && die "port ${NOMAD_SERVER_PORTS[0]} is taken by a process this script did not start"
    nomad_server_config >"$CSTATE/nomad/server.hcl"
    # A clean environment: raw_exec tasks inherit the agent's.
    spawn nomad-server env -i PATH="$PATH" HOME="$HOME" LANG=C.UTF-8 "$bin" agent -config "$CSTATE/nomad/server.hcl"
  fi
  await nomad-server 60 "electing itself leader" bash -c "curl -fs --max-time 1 http://127.0.0.1:${NOMAD_SERVER_PORTS[0]}/v1/status/leader | grep -q :"
  local name
  for name in "${NOMAD_CLIENTS[@]}"; do
    alive "nomad-$name" >/dev/null && continue
    nomad_client_config "$name" >"$CSTATE/nomad/$name.hcl"
    spawn "nomad-$name" env -i PATH="$PATH" HOME="$HOME" LANG=C.UTF-8 "$bin" agent -config "$CSTATE/nomad/$name.hcl"
  done
  for name in "${NOMAD_CLIENTS[@]}"; do
    await "nomad-$name" 60 "ready and eligible" nomad_client_ready "$name"
  done
  ok "${#NOMAD_CLIENTS[@]} clients ready and eligible; data in $DATA/nomad-*"
}

nomad_client_ready() { # NAME: the server lists the client ready and eligible
  curl -fs --max-time 1 "http://127.0.0.1:${NOMAD_SERVER_PORTS[0]}/v1/nodes" 2>/dev/null |
    grep -o "\"Name\":\"tributary-cluster-$1\"[^}]*" | grep -q '"SchedulingEligibility":"eligible","Status":"ready"'
}

down_nomad() {
  local addr=http://127.0.0.1:${NOMAD_SERVER_PORTS[0]} jobs job name pid
  if alive nomad-server >/dev/null; then
    # Tasks outlive a stopped client agent: purge the jobs while the
    # clients still run, so that they stop their tasks.
    for name in "${NOMAD_CLIENTS[@]}"; do
      pid=$(alive "nomad-$name") && kill -CONT "$pid" 2>/dev/null || true
    done
    jobs=$(curl -fs --max-time 5 "$addr/v1/jobs" | grep -o '"ID":"[^"]*"' | cut -d'"' -f4 || true)
    for job in $jobs; do
      info "purging Nomad job $job"
      curl -fs --max-time 10 -X DELETE "$addr/v1/job/$job?purge=true" >/dev/null || true
    done
    local deadline=$((SECONDS + 30))
    while curl -fs --max-time 2 "$addr/v1/allocations" | grep -q '"ClientStatus":"running"' && ((SECONDS < deadline)); do sleep 0.5; done
  fi
  for name in "${NOMAD_CLIENTS[@]}"; do halt "nomad-$name" 30; done
  halt nomad-server 30
  # Leftovers of killed clients: task processes (found by the allocation
  # directory below this topology in their environment), then mounts.
  local p
  for p in /proc/[0-9]*; do
    grep -qsz "^NOMAD_ALLOC_DIR=$DATA/" "$p/environ" && kill -KILL "${p#/proc/}" 2>/dev/null || true
  done
  local m
  for m in $(awk -v d="$DATA/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" || true
  done
  for name in "${NOMAD_CLIENTS[@]}"; do
    find /sys/fs/cgroup/*/"tributary-cluster-$name" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

# ---------------------------------------------------------------- commands

cmd_up() {
  local start=$SECONDS
  mkdir -p "$RUN" "$LOGS" "$DATA"
  up_redis
  up_kafka
  up_nomad
  step "topology up in $((SECONDS - start))s; its addresses: infra/cluster.sh env"
}

cmd_down() {
  step "stopping the topology"
  down_nomad
  halt kafka 20
  local port
  for port in "${REDIS_PORTS[@]}"; do halt "redis-$port" 10; done
  rm -rf "$DATA" "$CSTATE/nomad"
  ok "stopped; data deleted (logs kept in $LOGS)"
}

cmd_status() {
  local rc=0 name addr pid state
  printf '%-22s %-6s %-26s %-8s %s\n' PROCESS STATE ADDRESS PID LOG
  row() {
    name=$1 addr=$2
    if pid=$(alive "$name"); then
      state=up
      [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == T ]] && state=stopped # SIGSTOP
    else
      pid=- state=down rc=1
    fi
    printf '%-22s %-6s %-26s %-8s %s\n' "$name" "$state" "$addr" "$pid" "$LOGS/$name.log"
  }
  local port role
  for port in "${REDIS_PORTS[@]}"; do row "redis-$port" "127.0.0.1:$port"; done
  row kafka "127.0.0.1:$KAFKA_PORT-$((KAFKA_PORT + KAFKA_BROKERS - 1))"
  row nomad-server "http://127.0.0.1:${NOMAD_SERVER_PORTS[0]}"
  for name in "${NOMAD_CLIENTS[@]}"; do row "nomad-$name" "http://127.0.0.1:${NOMAD_CLIENT_PORTS[$name]%% *}"; done
  if role=$(redis_roles) && [[ -n $role ]]; then echo "redis roles: $role"; fi
  return $rc
}

cmd_env() {
  local addrs=() brokers=() port i
  for port in "${REDIS_PORTS[@]}"; do addrs+=("127.0.0.1:$port"); done
  for ((i = 0; i < KAFKA_BROKERS; i++)); do brokers+=("127.0.0.1:$((KAFKA_PORT + i))"); done
  cat <<EOF
export TRIBUTARY_CLUSTER_DIR=$CSTATE
export TRIBUTARY_CLUSTER_REDIS_ADDR=$(IFS=,; echo "${addrs[*]}")
export TRIBUTARY_CLUSTER_KAFKA_BROKERS=$(IFS=,; echo "${brokers[*]}")
export TRIBUTARY_CLUSTER_BROKER_CONTROL=http://127.0.0.1:$KAFKA_CONTROL_PORT
export TRIBUTARY_CLUSTER_NOMAD_ADDR=http://127.0.0.1:${NOMAD_SERVER_PORTS[0]}
export TRIBUTARY_CLUSTER_NOMAD_CLIENTS=$(IFS=,; echo "${NOMAD_CLIENTS[*]}")
export TRIBUTARY_CLUSTER_API_ADDR=$API_ADDR
EOF
}

usage() {
  cat <<EOF
Usage: infra/cluster.sh COMMAND

A multi-node topology on 127.0.0.1 for the fault scenarios (make chaos-cluster):
a Redis Cluster of 3 masters and 3 replicas (ports ${REDIS_PORTS[0]}-${REDIS_PORTS[-1]}), $KAFKA_BROKERS Kafka-protocol
brokers in one kfake process ($KAFKA_PORT-$((KAFKA_PORT + KAFKA_BROKERS - 1)), control API $KAFKA_CONTROL_PORT), a Nomad
server (${NOMAD_SERVER_PORTS[0]}) and the clients ${NOMAD_CLIENTS[*]}.

Commands:
  up       start whatever is not running; the first run creates the Redis Cluster.
           Run it again after a fault to bring a killed or stopped node back.
  down     purge the topology's Nomad jobs, stop every process it started (by pid),
           and delete its data (logs stay)
  status   state, address, pid and log of each process (exit 1 if one is down)
  env      the addresses the scenarios read, as shell exports

Environment:
  TRIBUTARY_CLUSTER_DIR  state directory (default: $ROOT/.state/cluster)
  TRIBUTARY_NOMAD_BIN    the Nomad binary (default: $ROOT/.state/bin/nomad, built by \`make up\`)
EOF
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
