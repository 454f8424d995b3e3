#!/usr/bin/env bash
# Show whether each cluster engine started by up.sh is running and answering.
#
#   bash cluster/engines/status.sh [engine...]   (default: all five)
#
# Exit status: 0 when every listed engine is ready, 1 otherwise.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_engines
select_engines "$@"

rc=0
for e in "${ENGINES[@]}"; do
  if "${e}_running"; then
    pid=""
    case $e in
      rabbitmq) pid="$(read_pid "$RABBIT_BEAM_PIDFILE")" ;;
      elasticsearch) pid="$(read_pid "$ES_SERVER_PIDFILE")" ;;
      *) pid="$(read_pid "$RUN_DIR/$e.pid")" ;;
    esac
    if "${e}_ready" >/dev/null 2>&1; then
      printf '  %-14s ready     pid %-8s %s\n' "$e" "${pid:-?}" "$("${e}_describe")"
    else
      printf '  %-14s starting  pid %-8s (not answering yet)\n' "$e" "${pid:-?}"; rc=1
    fi
  else
    printf '  %-14s stopped\n' "$e"; rc=1
  fi
done
printf '  state dir: %s\n' "$STATE_DIR"
exit $rc
