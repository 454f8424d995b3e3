#!/usr/bin/env bash
# Stop the cluster engines that cluster/engines/up.sh started (and only those:
# the pids recorded in $SQUARED_ENGINES_DIR/run). SIGTERM, wait, SIGKILL after
# SQUARED_STOP_TIMEOUT seconds (Cassandra/Elasticsearch: 60). Safe to run when
# nothing runs. Data stays in the state dir; delete $SQUARED_ENGINES_DIR/data
# for a clean slate.
#
#   bash cluster/engines/down.sh [engine...]   (default: all five)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_engines
select_engines "$@"
[[ -d "$RUN_DIR" ]] || { log "nothing to stop ($STATE_DIR has no run dir)"; exit 0; }
lock_state_dir

T0=$SECONDS
rc=0
# reverse start order: quick ones first, the JVMs last (they take longest)
for e in redis nats rabbitmq elasticsearch cassandra; do
  [[ " ${ENGINES[*]} " == *" $e "* ]] || continue
  was="not running"
  "${e}_running" && was="stopped"
  # always called: it also cleans stale pid files and helpers (e.g. our epmd)
  if "${e}_stop"; then
    printf '  %-14s %s\n' "$e" "$was"
  else
    printf '  %-14s FAILED to stop\n' "$e"; rc=1
  fi
done
log "down in $((SECONDS - T0))s"
exit $rc
