# shellcheck shell=bash
# Redis from the Debian package `redis-server` (our own process, not the Debian
# service; no persistence).
#   SQUARED_REDIS_PORT  (default 6379)
# Data dir: $SQUARED_ENGINES_DIR/data/redis. Log: logs/redis.log.

REDIS_PORT="${SQUARED_REDIS_PORT:-6379}"
REDIS_PIDFILE="$RUN_DIR/redis.pid"
REDIS_LOG="$LOG_DIR/redis.log"

redis_timeout() { echo 60; }
redis_ports() { echo "$REDIS_PORT"; }
redis_apt_packages() {
  command -v redis-server >/dev/null || echo redis-server
  command -v redis-cli >/dev/null || echo redis-tools
}
redis_install() { :; }
redis_running() { pidfile_alive "$REDIS_PIDFILE" redis-server; }

redis_start() {
  mkdir -p "$DATA_DIR/redis"
  spawn "$REDIS_PIDFILE" "$REDIS_LOG" redis-server \
    --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
    --daemonize no --dir "$DATA_DIR/redis" --save '' --appendonly no --logfile ''
}

redis_ready() { [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

redis_stop() { stop_pid redis "$(read_pid "$REDIS_PIDFILE")" redis-server && rm -f "$REDIS_PIDFILE"; }

redis_describe() {
  local v
  v="$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" info server 2>/dev/null | tr -d '\r' | sed -n 's/^redis_version://p')"
  echo "redis://127.0.0.1:$REDIS_PORT (${v:-?})"
}
redis_logs() { echo "$REDIS_LOG"; }
