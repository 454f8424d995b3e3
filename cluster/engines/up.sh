#!/usr/bin/env bash
# Install (only what is missing) and start Squared's cluster engines on
# 127.0.0.1, then wait until each one answers. Idempotent: engines these scripts
# already started are left alone (and just waited for).
#
#   bash cluster/engines/up.sh [engine...]     engines: nats redis rabbitmq cassandra
#                                              elasticsearch (default: all five;
#                                              aliases: rabbit, es, cass)
#
# Environment (see README.md; each <engine>.sh documents its own variables):
#   SQUARED_ENGINES_DIR      state dir (default $HOME/.squared-engines)
#   SQUARED_ENGINES_TIMEOUT  readiness timeout per engine, seconds
#   SQUARED_NATS_PORT=4222 SQUARED_NATS_MONITOR_PORT=8222 SQUARED_REDIS_PORT=6379
#   SQUARED_RABBITMQ_PORT=5672 SQUARED_CASSANDRA_PORT=9042 SQUARED_CASSANDRA_HEAP=1g
#   SQUARED_ES_PORT=9200 SQUARED_ES_HEAP=512m SQUARED_CASSANDRA_VERSION SQUARED_ES_VERSION
#   SQUARED_JAVA_HOME (Java 17)
#
# Exit status: 0 when every requested engine is ready; 1 otherwise (with the
# tail of the failing engine's logs on stderr).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_engines
select_engines "$@"
ensure_state_dirs
lock_state_dir

T0=$SECONDS
log "engines: ${ENGINES[*]} (state dir $STATE_DIR)"

# ---- 1. install what is missing: Debian packages (one apt-get update at most)
# and the Maven-fetched JVM engines, in parallel when Maven is already there.
pkgs=()
for e in "${ENGINES[@]}"; do
  for p in $("${e}_apt_packages"); do
    [[ " ${pkgs[*]} " == *" $p "* ]] || pkgs+=("$p")
  done
done
needs_artifacts=()
for e in "${ENGINES[@]}"; do
  [[ "$e" == cassandra || "$e" == elasticsearch ]] && needs_artifacts+=("$e")
done

install_artifacts() { local e; for e in "$@"; do "${e}_install"; done; }

# (sequential when the artifact step needs a tool that apt is about to install)
if [[ " ${pkgs[*]} " =~ \ (maven|openjdk-17-jdk-headless|unzip)\  ]]; then
  apt_install "${pkgs[@]}"
  install_artifacts "${needs_artifacts[@]}"
elif ((${#pkgs[@]})) && ((${#needs_artifacts[@]})); then
  (install_artifacts "${needs_artifacts[@]}") &
  art_pid=$!
  apt_rc=0; apt_install "${pkgs[@]}" || apt_rc=$?
  art_rc=0; wait "$art_pid" || art_rc=$?
  ((apt_rc == 0 && art_rc == 0)) || die "installation failed"
else
  ((${#pkgs[@]})) && apt_install "${pkgs[@]}"
  install_artifacts "${needs_artifacts[@]}"
fi
# the other engines' install steps (no-ops today)
for e in "${ENGINES[@]}"; do
  [[ " ${needs_artifacts[*]} " == *" $e "* ]] || "${e}_install"
done
T_INSTALLED=$SECONDS
((T_INSTALLED - T0 > 1)) && log "installation checked/done in $((T_INSTALLED - T0))s"

# ---- 2. start: the slow JVM engines first so they boot while the rest start.
declare -A state
for e in cassandra elasticsearch rabbitmq nats redis; do
  [[ " ${ENGINES[*]} " == *" $e "* ]] || continue
  if "${e}_running"; then
    state[$e]="already running"
  else
    check_ports_free "$e"
    "${e}_start"
    state[$e]="started"
  fi
done

# ---- 3. wait for readiness (all boot concurrently, so waiting in turn is free).
failed=()
for e in "${ENGINES[@]}"; do
  t="$(engine_timeout "$e")"
  rc=0; wait_ready "$e" "$t" || rc=$?
  case $rc in
    0) printf '  %-14s ready     %-16s %4ss  %s\n' "$e" "(${state[$e]})" "$((SECONDS - T0))" "$("${e}_describe")" ;;
    1) printf '  %-14s TIMEOUT   not ready after %ss\n' "$e" "$t"; failed+=("$e") ;;
    *) printf '  %-14s FAILED    process exited during startup\n' "$e"; failed+=("$e") ;;
  esac
done

if ((${#failed[@]})); then
  for e in "${failed[@]}"; do
    # shellcheck disable=SC2046
    tail_logs $("${e}_logs")
  done
  die "not ready: ${failed[*]} (total $((SECONDS - T0))s; inspect $LOG_DIR; 'bash $ENGINES_SRC_DIR/down.sh' stops what was started)"
fi
log "all ready: ${ENGINES[*]} in $((SECONDS - T0))s"
