# shellcheck shell=bash
# Shared helpers for the cluster engine scripts (up.sh, down.sh, status.sh).
# Sourced, never executed. See README.md in this directory for the overview.
#
# Environment (all optional):
#   SQUARED_ENGINES_DIR      state dir: pid files, logs, data, Maven cache
#                            (default: $HOME/.squared-engines)
#   SQUARED_ENGINES_TIMEOUT  readiness timeout in seconds for every engine
#                            (default: per engine, see each <engine>.sh)
#   SQUARED_STOP_TIMEOUT     seconds to wait after SIGTERM before SIGKILL (default 45)
#   SQUARED_JAVA_HOME        Java 17 used by Cassandra and Elasticsearch
#                            (default: /usr/lib/jvm/java-17-openjdk-amd64 or the
#                            `java` on PATH when it is 17)
#   SQUARED_MAVEN_REPO       Maven local repository used to fetch/cache the JVM
#                            engines (default: $SQUARED_ENGINES_DIR/m2)
#
# Every engine file <e>.sh defines:
#   <e>_apt_packages  print the Debian packages it needs that are missing
#   <e>_install       fetch non-apt artifacts (idempotent; cached)
#   <e>_running       0 when the process we started is alive
#   <e>_ports         the TCP ports it will listen on (127.0.0.1)
#   <e>_start         spawn it in the background (returns at once)
#   <e>_ready         one readiness probe (0 = ready)
#   <e>_stop          stop only what we started
#   <e>_describe      one-line address/version text
#   <e>_logs          log files worth tailing on failure
#   <e>_timeout       default readiness timeout (seconds)

set -o pipefail

ENGINES_SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ALL_ENGINES=(nats redis rabbitmq cassandra elasticsearch)

# Debian puts daemons in /usr/sbin, not always on a non-root PATH.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin:/sbin" ;; esac
export PATH

STATE_DIR="${SQUARED_ENGINES_DIR:-$HOME/.squared-engines}"
RUN_DIR="$STATE_DIR/run"
LOG_DIR="$STATE_DIR/logs"
DATA_DIR="$STATE_DIR/data"
MAVEN_REPO="${SQUARED_MAVEN_REPO:-$STATE_DIR/m2}"
STOP_TIMEOUT="${SQUARED_STOP_TIMEOUT:-45}"

ensure_state_dirs() {
  mkdir -p "$RUN_DIR" "$LOG_DIR" "$DATA_DIR"
}

# Serialize up/down runs on one state dir (fd 9, closed in spawned engines).
lock_state_dir() {
  exec 9>"$STATE_DIR/.lock"
  flock -w 900 9 || die "another up.sh/down.sh holds $STATE_DIR/.lock"
}

# ---------------------------------------------------------------- logging
_ts() { date +%H:%M:%S; }
log()  { printf '[engines %s] %s\n' "$(_ts)" "$*" >&2; }
warn() { printf '[engines %s] WARNING: %s\n' "$(_ts)" "$*" >&2; }
die()  { printf '[engines %s] ERROR: %s\n' "$(_ts)" "$*" >&2; exit 1; }

# Print the last lines of each existing file given.
tail_logs() {
  local n="${TAIL_LINES:-40}" f
  for f in "$@"; do
    [[ -f "$f" ]] || continue
    printf -- '----- last %s lines of %s -----\n' "$n" "$f" >&2
    tail -n "$n" "$f" >&2
  done
}

# ---------------------------------------------------------------- engines
canonical_engine() {
  case "$1" in
    nats|nats-server) echo nats ;;
    redis|redis-server) echo redis ;;
    rabbitmq|rabbit|rabbitmq-server|amqp) echo rabbitmq ;;
    cassandra|cass|cql) echo cassandra ;;
    elasticsearch|es|elastic) echo elasticsearch ;;
    *) return 1 ;;
  esac
}

# Fill the global array ENGINES from arguments (default: all), in canonical order.
select_engines() {
  local want=() a c e
  if (($# == 0)); then want=("${ALL_ENGINES[@]}"); else
    for a in "$@"; do
      c="$(canonical_engine "$a")" || die "unknown engine '$a' (known: ${ALL_ENGINES[*]})"
      want+=("$c")
    done
  fi
  ENGINES=()
  for e in "${ALL_ENGINES[@]}"; do
    for c in "${want[@]}"; do [[ "$c" == "$e" ]] && { ENGINES+=("$e"); break; }; done
  done
  return 0
}

load_engines() {
  local e
  for e in "${ALL_ENGINES[@]}"; do
    # shellcheck source=/dev/null
    source "$ENGINES_SRC_DIR/$e.sh"
  done
}

engine_timeout() {
  if [[ -n "${SQUARED_ENGINES_TIMEOUT:-}" ]]; then echo "$SQUARED_ENGINES_TIMEOUT"; else "$1_timeout"; fi
}

# ---------------------------------------------------------------- root / apt
if [[ "$(id -u)" == 0 ]]; then SUDO=(); else SUDO=(sudo -n); fi
as_root() { "${SUDO[@]}" "$@"; }

pkg_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

APT_UPDATED=0
# apt_install PKG... : installs the missing ones; `apt-get update` at most once
# per run. A temporary policy-rc.d (exit 101) keeps the packages' maintainer
# scripts from starting their system services (we start our own instances).
apt_install() {
  local missing=() p
  for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  command -v apt-get >/dev/null || die "apt-get not found; install ${missing[*]} by hand"
  local aptopt=(-o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  local apt_log="$LOG_DIR/apt.log"
  if ((APT_UPDATED == 0)); then
    log "apt-get update (output: $apt_log)"
    as_root apt-get "${aptopt[@]}" update >>"$apt_log" 2>&1 || { tail_logs "$apt_log"; die "apt-get update failed"; }
    APT_UPDATED=1
  fi
  local policy=/usr/sbin/policy-rc.d created=0
  if [[ ! -e "$policy" ]]; then
    if printf '#!/bin/sh\n# temporary, written by Squared cluster/engines: do not start services\nexit 101\n' |
      as_root tee "$policy" >/dev/null && as_root chmod 755 "$policy"; then
      created=1
      # never leave it behind, even when interrupted
      trap 'as_root rm -f /usr/sbin/policy-rc.d' EXIT
      trap 'exit 130' INT TERM
    fi
  fi
  log "apt-get install ${missing[*]}"
  local rc=0
  as_root env DEBIAN_FRONTEND=noninteractive apt-get "${aptopt[@]}" install -y \
    --no-install-recommends "${missing[@]}" >>"$apt_log" 2>&1 || rc=$?
  if ((created)); then as_root rm -f "$policy"; trap - EXIT INT TERM; fi
  ((rc == 0)) || { tail_logs "$apt_log"; die "apt-get install ${missing[*]} failed (rc=$rc)"; }
}

# ---------------------------------------------------------------- java / maven
java17_home() {
  local h
  if [[ -n "${SQUARED_JAVA_HOME:-}" ]]; then echo "$SQUARED_JAVA_HOME"; return; fi
  for h in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-arm64 /usr/lib/jvm/java-17-openjdk; do
    [[ -x "$h/bin/java" ]] && { echo "$h"; return; }
  done
  if command -v java >/dev/null && java -version 2>&1 | grep -q 'version "17'; then
    h="$(readlink -f "$(command -v java)")"; echo "${h%/bin/java}"; return
  fi
  return 1
}

java_apt_packages() { java17_home >/dev/null 2>&1 || echo openjdk-17-jdk-headless; }
maven_apt_packages() { command -v mvn >/dev/null || echo maven; }

# mvn_q ARGS... : batch-mode Maven on our own local repository, quiet unless it fails.
mvn_q() {
  local out rc=0
  out="$(mvn -B -ntp -Dmaven.repo.local="$MAVEN_REPO" "$@" 2>&1)" || rc=$?
  if ((rc)); then printf '%s\n' "$out" | tail -n 40 >&2; fi
  return "$rc"
}

# shellcheck disable=SC2034 # used by cassandra.sh and elasticsearch.sh
DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

# ---------------------------------------------------------------- processes
read_pid() { [[ -s "$1" ]] && tr -dc '0-9' <"$1"; return 0; }

# pid_alive PID PATTERN : process exists, is not a zombie, and its command line
# contains PATTERN (guards against pid reuse).
pid_alive() {
  local pid="$1" pat="$2" st
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  st="$(awk '/^State:/{print $2}' "/proc/$pid/status" 2>/dev/null)"
  if [[ "$st" == Z ]]; then
    # A JVM's main thread exits first while the other threads still shut down:
    # the process shows as a zombie with an empty cmdline but is still alive
    # (and still holds its ports) as long as it has other tasks.
    local n; n="$(ls "/proc/$pid/task" 2>/dev/null | wc -l)"
    ((n > 1))
    return
  fi
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pat"
}

# pidfile_alive FILE PATTERN
pidfile_alive() { pid_alive "$(read_pid "$1")" "$2"; }

# spawn PIDFILE LOGFILE CMD... : start CMD in its own session, detached from this
# shell, stdout/stderr appended to LOGFILE; PIDFILE receives CMD's own pid
# (written by the wrapper right before exec, so it is valid at once).
spawn() {
  local pidfile="$1" logfile="$2"; shift 2
  rm -f "$pidfile"
  printf '\n===== %s starting: %s\n' "$(date '+%F %T')" "$*" >>"$logfile"
  # shellcheck disable=SC2016
  # fd 9 is the state-dir lock held by up/down: the engines must not inherit it.
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >>"$logfile" 2>&1 </dev/null 9>&- &
  local i
  for ((i = 0; i < 50; i++)); do [[ -s "$pidfile" ]] && return 0; sleep 0.1; done
  die "could not spawn $1"
}

# stop_pid NAME PID PATTERN [TIMEOUT] : SIGTERM, wait, then SIGKILL.
stop_pid() {
  local name="$1" pid="$2" pat="$3" t="${4:-$STOP_TIMEOUT}" i
  pid_alive "$pid" "$pat" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < t * 5; i++)); do
    pid_alive "$pid" "$pat" || return 0
    sleep 0.2
  done
  warn "$name (pid $pid) did not stop within ${t}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do pid_alive "$pid" "$pat" || return 0; sleep 0.1; done
  warn "$name (pid $pid) still present after SIGKILL"
  return 1
}

# ---------------------------------------------------------------- network
# tcp_open HOST PORT : something accepts connections there.
# shellcheck disable=SC2016
tcp_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }

# port_owner PORT : describe who listens on PORT (best effort).
port_owner() {
  local o=""
  command -v ss >/dev/null && o="$(ss -Hltnp "sport = :$1" 2>/dev/null | head -n 2 | tr -s ' ' | cut -d' ' -f4,6-)"
  echo "${o:-unknown process}"
}

# check_ports_free ENGINE : fail if one of the engine's ports is taken by a
# process these scripts did not start.
check_ports_free() {
  local e="$1" p
  for p in $("${e}_ports"); do
    if tcp_open 127.0.0.1 "$p"; then
      local hint="stop that process or move our port (see cluster/engines/README.md)"
      case $e in nats | redis | rabbitmq) hint="$hint; if it is the Debian service: service $e-server stop" ;; esac
      die "$e: port $p is already in use by a process these scripts did not start: $(port_owner "$p")
  ($hint)"
    fi
  done
}

# wait_ready ENGINE TIMEOUT : poll <e>_ready every second; fail fast if the
# process died. Returns 0 ready, 1 timeout, 2 process died.
wait_ready() {
  local e="$1" t="$2" start=$SECONDS
  while :; do
    "${e}_ready" >/dev/null 2>&1 && return 0
    if ! "${e}_running"; then
      sleep 1 # let a just-exited process flush its log
      "${e}_ready" >/dev/null 2>&1 && return 0
      return 2
    fi
    ((SECONDS - start >= t)) && return 1
    sleep 1
  done
}
