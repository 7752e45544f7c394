#!/usr/bin/env bash
# Local test stack: Apache Kafka 3.9.1 (KRaft, single node) + FerretDB v1.24.2 (SQLite).
#
#   bash tools/stack/stack.sh install   # fetch/build artifacts into the cache (idempotent)
#   bash tools/stack/stack.sh up        # install if needed, start both, wait until ready (idempotent)
#   bash tools/stack/stack.sh status    # exit 0 if both are up and ready, 3 otherwise
#   bash tools/stack/stack.sh down      # stop what this script started, by recorded pid (idempotent)
#
# See tools/stack/README.md for versions, ports, paths and readiness checks.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$SCRIPT_DIR/../.." && pwd)"

STATE="${MANDATE_STACK_DIR:-$REPO/.stack}"
CACHE="${MANDATE_CACHE:-$HOME/.cache/mandate}"
[[ "$STATE" == /* ]] || STATE="$PWD/$STATE"
[[ "$CACHE" == /* ]] || CACHE="$PWD/$CACHE"

KAFKA_VERSION=3.9.1
FERRETDB_VERSION=v1.24.2
FERRETDB_MODULE=github.com/FerretDB/FerretDB

KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
MONGO_PORT="${MONGO_PORT:-27017}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
READY_TIMEOUT="${STACK_READY_TIMEOUT:-120}"
STOP_TIMEOUT="${STACK_STOP_TIMEOUT:-60}"
HOST=127.0.0.1

KAFKA_HOME="$CACHE/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
FERRETDB_BIN="$CACHE/bin/ferretdb-$FERRETDB_VERSION"
MONGOCHECK_BIN="$CACHE/bin/mongocheck"

KAFKA_DIR="$STATE/kafka"
FERRET_DIR="$STATE/ferretdb"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
  cat >&2 <<EOF
usage: $(basename "$0") {install|up|down|status}
env: KAFKA_PORT=$KAFKA_PORT KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT MONGO_PORT=$MONGO_PORT
     MANDATE_STACK_DIR=$STATE
     MANDATE_CACHE=$CACHE
EOF
}

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is required but not on PATH"; }

# ---------------------------------------------------------------- helpers

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# Print the tail of a log file (for error reports).
show_tail() {
  local f="$1" n="${2:-40}"
  if [[ -s "$f" ]]; then
    printf '[stack] ---- last %s lines of %s ----\n' "$n" "$f" >&2
    tail -n "$n" "$f" >&2 || true
    printf '[stack] ---- end of %s ----\n' "$f" >&2
  else
    log "(log $f is empty or missing)"
  fi
}

# Who listens on a port (best effort, for error messages).
port_owner() {
  if command -v ss >/dev/null 2>&1; then
    ss -ltnpH "sport = :$1" 2>/dev/null | head -n 3 || true
  fi
}

read_pid() { [[ -s "$1" ]] && tr -dc '0-9' <"$1" || true; }

# pid_alive PIDFILE MARKER: true if the recorded pid is alive AND its command line contains
# MARKER (guards against pid reuse; we never signal a process we did not start).
pid_alive() {
  local pid
  pid="$(read_pid "$1")"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    local cmdline
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    [[ "$cmdline" == *"$2"* ]] || return 1
  fi
  return 0
}

# Start a command detached (own session, no stdin, output appended to LOG) and record its pid.
# The pid written is the pid of the server itself: the wrapper shell writes $$ then execs.
launch() {
  local pidfile="$1" logfile="$2"
  shift 2
  rm -f "$pidfile"
  # shellcheck disable=SC2016
  (cd "$(dirname "$pidfile")" && exec nohup setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 9>&-) &
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s "$pidfile" ]] && return 0
    sleep 0.1
  done
  die "failed to launch $1 (no pid file $pidfile)"
}

# stop_pid NAME PIDFILE MARKER
stop_pid() {
  local name="$1" pidfile="$2" marker="$3" pid i
  if ! pid_alive "$pidfile" "$marker"; then
    if [[ -e "$pidfile" ]]; then
      log "$name: not running (removing stale pid file $pidfile)"
      rm -f "$pidfile"
    else
      log "$name: not running"
    fi
    return 0
  fi
  pid="$(read_pid "$pidfile")"
  log "$name: stopping pid $pid (SIGTERM)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name: pid $pid still alive after ${STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -f "$pidfile"
  log "$name: stopped"
}

sha_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# ---------------------------------------------------------------- install

install_kafka() {
  if [[ -f "$KAFKA_HOME/.complete" && -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
    log "kafka $KAFKA_VERSION: jars cached in $KAFKA_LIBS"
    return 0
  fi
  need mvn
  log "kafka $KAFKA_VERSION: fetching jars from Maven Central into $KAFKA_LIBS"
  mkdir -p "$KAFKA_HOME"
  rm -rf "$KAFKA_LIBS.tmp"
  if ! mvn -q -B -f "$SCRIPT_DIR/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS.tmp" >"$KAFKA_HOME/mvn.log" 2>&1; then
    show_tail "$KAFKA_HOME/mvn.log"
    die "kafka: mvn dependency:copy-dependencies failed"
  fi
  [[ -f "$KAFKA_LIBS.tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "kafka: kafka_2.13-$KAFKA_VERSION.jar missing after mvn"
  rm -rf "$KAFKA_LIBS"
  mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
  touch "$KAFKA_HOME/.complete"
  log "kafka $KAFKA_VERSION: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars installed"
}

# No `cmd | grep -q` under pipefail: grep exiting early can SIGPIPE the writer.
ferretdb_version_ok() {
  local out
  out="$("$1" --version 2>&1)" || return 1
  [[ $'\n'"$out"$'\n' == *$'\n'"version: $FERRETDB_VERSION"$'\n'* ]]
}

install_ferretdb() {
  if [[ -x "$FERRETDB_BIN" ]] && ferretdb_version_ok "$FERRETDB_BIN"; then
    log "ferretdb $FERRETDB_VERSION: cached at $FERRETDB_BIN"
    return 0
  fi
  need go
  # `go install $FERRETDB_MODULE/cmd/ferretdb@$FERRETDB_VERSION` compiles, but the resulting binary
  # panics at startup: the module zip lacks the generated build/version/version.txt that FerretDB
  # embeds (it is produced by `bin/task gen-version` from git). So build from a writable copy of
  # the downloaded module with that file written, exactly as upstream's build does.
  log "ferretdb $FERRETDB_VERSION: downloading module $FERRETDB_MODULE@$FERRETDB_VERSION"
  local dir tmp
  mkdir -p "$CACHE/bin" "$CACHE/tmp"
  dir="$(cd "$CACHE/tmp" && GOFLAGS=-mod=mod go mod download -json "$FERRETDB_MODULE@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -n "$dir" && -d "$dir" ]] || die "ferretdb: 'go mod download' did not report a module directory"
  tmp="$(mktemp -d "$CACHE/tmp/ferretdb-build.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  cp -R "$dir" "$tmp/src"
  chmod -R u+w "$tmp/src"
  printf '%s\n' "$FERRETDB_VERSION" >"$tmp/src/build/version/version.txt"
  printf '%s\n' "source" >"$tmp/src/build/version/package.txt"
  log "ferretdb $FERRETDB_VERSION: building ./cmd/ferretdb (takes a few minutes on 2 cores)"
  if ! (cd "$tmp/src" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$FERRETDB_BIN.tmp" ./cmd/ferretdb) >"$tmp/build.log" 2>&1; then
    show_tail "$tmp/build.log"
    die "ferretdb: go build failed"
  fi
  if ! ferretdb_version_ok "$FERRETDB_BIN.tmp"; then
    "$FERRETDB_BIN.tmp" --version >&2 || true
    die "ferretdb: built binary does not report version $FERRETDB_VERSION"
  fi
  mv "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
  rm -rf "$tmp"
  trap - EXIT
  log "ferretdb $FERRETDB_VERSION: installed $FERRETDB_BIN"
}

install_mongocheck() {
  local src="$SCRIPT_DIR/mongocheck" want
  want="$(sha_of "$src/main.go" "$src/go.mod" "$src/go.sum")"
  if [[ -x "$MONGOCHECK_BIN" && "$(cat "$MONGOCHECK_BIN.sha256" 2>/dev/null || true)" == "$want" ]]; then
    log "mongocheck: cached at $MONGOCHECK_BIN"
    return 0
  fi
  need go
  log "mongocheck: building readiness probe (official MongoDB Go driver)"
  mkdir -p "$CACHE/bin"
  if ! (cd "$src" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$MONGOCHECK_BIN.tmp" .) >"$CACHE/bin/mongocheck.build.log" 2>&1; then
    show_tail "$CACHE/bin/mongocheck.build.log"
    die "mongocheck: go build failed"
  fi
  mv "$MONGOCHECK_BIN.tmp" "$MONGOCHECK_BIN"
  printf '%s\n' "$want" >"$MONGOCHECK_BIN.sha256"
}

cmd_install() {
  local t0=$SECONDS
  need java
  install_kafka
  install_ferretdb
  install_mongocheck
  log "install: done in $((SECONDS - t0))s (cache: $CACHE)"
}

# ---------------------------------------------------------------- kafka

KAFKA_PID="$KAFKA_DIR/kafka.pid"
KAFKA_LOG="$KAFKA_DIR/kafka.log"
KAFKA_MARKER="kafka.Kafka $KAFKA_DIR/server.properties"

kafka_write_config() {
  mkdir -p "$KAFKA_DIR/data"
  cat >"$KAFKA_DIR/server.properties" <<EOF
# Generated by tools/stack/stack.sh on every 'up'; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DIR/data

# Single broker: every internal topic must have replication factor 1.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
default.replication.factor=1
min.insync.replicas=1

group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
num.partitions=3
offsets.topic.num.partitions=10
transaction.state.log.num.partitions=10
log.retention.hours=24
log.segment.bytes=67108864
num.network.threads=2
num.io.threads=4
EOF
  cat >"$KAFKA_DIR/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.controller=INFO
log4j.logger.kafka.log.LogCleaner=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.authorizer.logger=WARN
EOF
}

kafka_java() {
  java -cp "$KAFKA_LIBS/*" -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" "$@"
}

kafka_format() {
  if [[ -f "$KAFKA_DIR/data/meta.properties" ]]; then
    return 0
  fi
  local cid
  if [[ -s "$KAFKA_DIR/cluster.id" ]]; then
    cid="$(cat "$KAFKA_DIR/cluster.id")"
  else
    cid="$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1 | tr -d '[:space:]')"
    [[ "$cid" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "kafka: could not generate a cluster id (got '$cid')"
    printf '%s\n' "$cid" >"$KAFKA_DIR/cluster.id"
  fi
  log "kafka: formatting KRaft storage $KAFKA_DIR/data (cluster id $cid)"
  if ! kafka_java kafka.tools.StorageTool format -t "$cid" -c "$KAFKA_DIR/server.properties" \
    >"$KAFKA_DIR/format.log" 2>&1; then
    show_tail "$KAFKA_DIR/format.log"
    die "kafka: storage format failed"
  fi
}

kafka_ready() {
  port_open "$KAFKA_PORT" && grep -q "Kafka Server started" "$KAFKA_LOG" 2>/dev/null
}

kafka_wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! pid_alive "$KAFKA_PID" "$KAFKA_MARKER"; then
      show_tail "$KAFKA_LOG" 60
      rm -f "$KAFKA_PID"
      die "kafka: process exited before becoming ready (log: $KAFKA_LOG)"
    fi
    kafka_ready && return 0
    sleep 0.5
  done
  show_tail "$KAFKA_LOG" 60
  stop_pid kafka "$KAFKA_PID" "$KAFKA_MARKER"
  die "kafka: not ready after ${READY_TIMEOUT}s (port $HOST:$KAFKA_PORT + 'Kafka Server started' in $KAFKA_LOG); stopped it"
}

kafka_up() {
  mkdir -p "$KAFKA_DIR"
  if pid_alive "$KAFKA_PID" "$KAFKA_MARKER"; then
    local running_port
    running_port="$(cat "$KAFKA_DIR/port" 2>/dev/null || true)"
    if [[ -n "$running_port" && "$running_port" != "$KAFKA_PORT" ]]; then
      die "kafka: already running on port $running_port (pid $(read_pid "$KAFKA_PID")), not $KAFKA_PORT; run 'down' first"
    fi
    if kafka_ready; then
      log "kafka: already up (pid $(read_pid "$KAFKA_PID"), $HOST:$KAFKA_PORT)"
      return 0
    fi
    log "kafka: running (pid $(read_pid "$KAFKA_PID")) but not ready yet, waiting"
    kafka_wait_ready
    log "kafka: ready on $HOST:$KAFKA_PORT"
    return 0
  fi
  rm -f "$KAFKA_PID"
  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if port_open "$p"; then
      port_owner "$p" >&2
      die "kafka: port $HOST:$p is already in use by a process this script did not start"
    fi
  done
  need java
  kafka_write_config
  kafka_format
  [[ -f "$KAFKA_LOG" ]] && mv -f "$KAFKA_LOG" "$KAFKA_LOG.prev"
  : >"$KAFKA_LOG"
  printf '%s\n' "$KAFKA_PORT" >"$KAFKA_DIR/port"
  log "kafka: starting $KAFKA_VERSION on $HOST:$KAFKA_PORT (controller $HOST:$KAFKA_CONTROLLER_PORT)"
  local t0=$SECONDS
  # shellcheck disable=SC2086
  launch "$KAFKA_PID" "$KAFKA_LOG" \
    java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true \
    -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties"
  kafka_wait_ready
  log "kafka: ready on $HOST:$KAFKA_PORT (pid $(read_pid "$KAFKA_PID"), $((SECONDS - t0))s)"
}

# ---------------------------------------------------------------- ferretdb

FERRET_PID="$FERRET_DIR/ferretdb.pid"
FERRET_LOG="$FERRET_DIR/ferretdb.log"
FERRET_MARKER="--sqlite-url=file:$FERRET_DIR/data/"

ferret_probe() { # ferret_probe [extra mongocheck flags]
  "$MONGOCHECK_BIN" -uri "mongodb://$HOST:$MONGO_PORT/" -timeout 3s "$@" >/dev/null 2>&1
}

ferret_ready() { port_open "$MONGO_PORT" && ferret_probe -roundtrip=false; }

ferret_wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT)) err=""
  while ((SECONDS < deadline)); do
    if ! pid_alive "$FERRET_PID" "$FERRET_MARKER"; then
      show_tail "$FERRET_LOG" 60
      rm -f "$FERRET_PID"
      die "ferretdb: process exited before becoming ready (log: $FERRET_LOG)"
    fi
    if port_open "$MONGO_PORT"; then
      # Full probe: handshake (hello) + ping + insert/find/delete round trip.
      if err="$("$MONGOCHECK_BIN" -uri "mongodb://$HOST:$MONGO_PORT/" -timeout 5s 2>&1)"; then
        return 0
      fi
    fi
    sleep 0.5
  done
  [[ -n "$err" ]] && log "last probe error: $err"
  show_tail "$FERRET_LOG" 60
  stop_pid ferretdb "$FERRET_PID" "$FERRET_MARKER"
  die "ferretdb: not ready after ${READY_TIMEOUT}s (port $HOST:$MONGO_PORT + mongocheck); stopped it"
}

ferret_up() {
  mkdir -p "$FERRET_DIR"
  if pid_alive "$FERRET_PID" "$FERRET_MARKER"; then
    local running_port
    running_port="$(cat "$FERRET_DIR/port" 2>/dev/null || true)"
    if [[ -n "$running_port" && "$running_port" != "$MONGO_PORT" ]]; then
      die "ferretdb: already running on port $running_port (pid $(read_pid "$FERRET_PID")), not $MONGO_PORT; run 'down' first"
    fi
    if ferret_ready; then
      log "ferretdb: already up (pid $(read_pid "$FERRET_PID"), $HOST:$MONGO_PORT)"
      return 0
    fi
    log "ferretdb: running (pid $(read_pid "$FERRET_PID")) but not ready yet, waiting"
    ferret_wait_ready
    log "ferretdb: ready on $HOST:$MONGO_PORT"
    return 0
  fi
  rm -f "$FERRET_PID"
  if port_open "$MONGO_PORT"; then
    port_owner "$MONGO_PORT" >&2
    die "ferretdb: port $HOST:$MONGO_PORT is already in use by a process this script did not start"
  fi
  mkdir -p "$FERRET_DIR/data" "$FERRET_DIR/state"
  [[ -f "$FERRET_LOG" ]] && mv -f "$FERRET_LOG" "$FERRET_LOG.prev"
  : >"$FERRET_LOG"
  printf '%s\n' "$MONGO_PORT" >"$FERRET_DIR/port"
  log "ferretdb: starting $FERRETDB_VERSION (sqlite) on $HOST:$MONGO_PORT"
  local t0=$SECONDS
  launch "$FERRET_PID" "$FERRET_LOG" \
    "$FERRETDB_BIN" \
    --handler=sqlite \
    "--sqlite-url=file:$FERRET_DIR/data/" \
    "--state-dir=$FERRET_DIR/state" \
    "--listen-addr=$HOST:$MONGO_PORT" \
    --debug-addr=- \
    --telemetry=disable \
    --log-level=info \
    --log-format=console
  ferret_wait_ready
  log "ferretdb: ready on $HOST:$MONGO_PORT (pid $(read_pid "$FERRET_PID"), $((SECONDS - t0))s)"
}

# ---------------------------------------------------------------- commands

lock() {
  mkdir -p "$STATE"
  exec 9>"$STATE/.lock"
  if command -v flock >/dev/null 2>&1; then
    flock -w 300 9 || die "another stack.sh is running (lock $STATE/.lock)"
  fi
}

cmd_up() {
  local t0=$SECONDS
  lock
  cmd_install
  kafka_up
  ferret_up
  log "up: kafka $HOST:$KAFKA_PORT, mongodb (ferretdb) $HOST:$MONGO_PORT; state in $STATE ($((SECONDS - t0))s)"
}

cmd_down() {
  lock
  stop_pid ferretdb "$FERRET_PID" "$FERRET_MARKER"
  stop_pid kafka "$KAFKA_PID" "$KAFKA_MARKER"
}

cmd_status() {
  local rc=0 pid
  # Report on the ports the running servers were started with.
  KAFKA_PORT="$(cat "$KAFKA_DIR/port" 2>/dev/null || echo "$KAFKA_PORT")"
  if pid_alive "$KAFKA_PID" "$KAFKA_MARKER"; then
    pid="$(read_pid "$KAFKA_PID")"
    if kafka_ready; then
      echo "kafka     up      pid $pid  $HOST:$KAFKA_PORT  log $KAFKA_LOG"
    else
      echo "kafka     STARTING/NOT READY  pid $pid  log $KAFKA_LOG"
      rc=3
    fi
  else
    echo "kafka     down"
    rc=3
  fi
  if pid_alive "$FERRET_PID" "$FERRET_MARKER"; then
    pid="$(read_pid "$FERRET_PID")"
    local port
    port="$(cat "$FERRET_DIR/port" 2>/dev/null || echo "$MONGO_PORT")"
    if [[ -x "$MONGOCHECK_BIN" ]] && MONGO_PORT="$port" ferret_ready; then
      echo "ferretdb  up      pid $pid  $HOST:$port  log $FERRET_LOG"
    else
      echo "ferretdb  NOT READY  pid $pid  log $FERRET_LOG"
      rc=3
    fi
  else
    echo "ferretdb  down"
    rc=3
  fi
  echo "state     $STATE"
  echo "cache     $CACHE"
  return "$rc"
}

case "${1:-}" in
  install) cmd_install ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  -h | --help | help) usage ;;
  *)
    usage
    exit 2
    ;;
esac
