# shellcheck shell=bash
# NATS server with JetStream, from the Debian package `nats-server`.
#   SQUARED_NATS_PORT          client port (default 4222)
#   SQUARED_NATS_MONITOR_PORT  HTTP monitoring port, /healthz (default 8222)
#   SQUARED_NATS_BIN           server binary (default nats-server; e.g. a newer one
#                              from `go install github.com/nats-io/nats-server/v2@...`)
# Data: $SQUARED_ENGINES_DIR/data/nats (JetStream store). Log: logs/nats.log.

NATS_PORT="${SQUARED_NATS_PORT:-4222}"
NATS_MONITOR_PORT="${SQUARED_NATS_MONITOR_PORT:-8222}"
NATS_BIN="${SQUARED_NATS_BIN:-nats-server}"
NATS_PIDFILE="$RUN_DIR/nats.pid"
NATS_LOG="$LOG_DIR/nats.log"

nats_timeout() { echo 60; }
nats_ports() { echo "$NATS_PORT $NATS_MONITOR_PORT"; }
nats_apt_packages() {
  command -v "$NATS_BIN" >/dev/null && return
  [[ "$NATS_BIN" == nats-server ]] && echo nats-server || die "SQUARED_NATS_BIN=$NATS_BIN not found"
}
nats_install() { :; }
nats_running() { pidfile_alive "$NATS_PIDFILE" nats-server; }

nats_start() {
  mkdir -p "$DATA_DIR/nats"
  # -a also binds the monitoring listener (its host defaults to the client host).
  spawn "$NATS_PIDFILE" "$NATS_LOG" "$NATS_BIN" -n squared-nats \
    -a 127.0.0.1 -p "$NATS_PORT" -m "$NATS_MONITOR_PORT" \
    -js -sd "$DATA_DIR/nats"
}

nats_ready() { curl -fsS -m 2 "http://127.0.0.1:$NATS_MONITOR_PORT/healthz" >/dev/null; }

nats_stop() { stop_pid nats "$(read_pid "$NATS_PIDFILE")" nats-server && rm -f "$NATS_PIDFILE"; }

nats_describe() {
  local v
  v="$("$NATS_BIN" --version 2>/dev/null | awk '{print $NF}')"
  echo "nats://127.0.0.1:$NATS_PORT (JetStream, monitor :$NATS_MONITOR_PORT, ${v:-?})"
}
nats_logs() { echo "$NATS_LOG"; }
