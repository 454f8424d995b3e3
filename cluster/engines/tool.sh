#!/usr/bin/env bash
# The engines' own operator tools, for the engines up.sh started on this machine:
#
#   bash cluster/engines/tool.sh nodetool <args…>     Cassandra's nodetool (local JMX port)
#   bash cluster/engines/tool.sh rabbitmqctl <args…>  rabbitmqctl against our RabbitMQ node
#
# What `npm run backup` / `npm run restore` run in a cluster through SQUARED_NODETOOL and
# SQUARED_RABBITMQCTL (README, "Operating Squared"); on real hosts those are the installed
# tools, e.g. `ssh {host} nodetool`. Cassandra comes here as cassandra-all jars from Maven
# (no bin/ scripts), so nodetool is its main class run with the server's class path.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_engines

tool="${1:-}"; shift || true
case "$tool" in
  nodetool)
    jh="$(java17_home)" || die "nodetool: Java 17 not found (set SQUARED_JAVA_HOME)"
    [[ -f "$CASSANDRA_HOME/lib/.complete" ]] || die "nodetool: Cassandra is not installed under $CASSANDRA_HOME (npm run engines:up)"
    # nodetool's own logging (the server's class path brings logback): warnings only, on stderr.
    ensure_state_dirs
    cat >"$RUN_DIR/logback-nodetool.xml" <<'XML'
<configuration>
  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender"><target>System.err</target>
    <encoder><pattern>%-5level %logger{0} - %msg%n</pattern></encoder></appender>
  <root level="WARN"><appender-ref ref="STDERR"/></root>
</configuration>
XML
    # The module openings of Cassandra's jvm17-clients.options.
    opens=()
    for m in java.base/jdk.internal.misc java.base/jdk.internal.ref java.base/sun.nio.ch java.management.rmi/com.sun.jmx.remote.internal.rmi \
      java.rmi/sun.rmi.registry java.rmi/sun.rmi.server java.sql/java.sql; do opens+=(--add-exports "$m=ALL-UNNAMED"); done
    for m in java.base/java.lang.module java.base/jdk.internal.loader java.base/jdk.internal.ref java.base/jdk.internal.reflect \
      java.base/jdk.internal.math java.base/jdk.internal.module java.base/jdk.internal.util.jar jdk.management/com.sun.management.internal \
      java.base/sun.nio.ch java.base/java.io java.base/java.nio java.base/java.lang; do opens+=(--add-opens "$m=ALL-UNNAMED"); done
    exec "$jh/bin/java" -Xmx256m "${opens[@]}" -Dcassandra.storagedir="$CASSANDRA_DATA" \
      -Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener \
      -Dlogback.configurationFile="file://$RUN_DIR/logback-nodetool.xml" \
      -cp "$CASSANDRA_HOME/conf:$CASSANDRA_HOME/lib/*" org.apache.cassandra.tools.NodeTool \
      -h 127.0.0.1 -p "$CASSANDRA_JMX_PORT" "$@"
    ;;
  rabbitmqctl)
    rabbit_env "$RABBIT_BIN/rabbitmqctl" -n "$RABBIT_NODENAME" "$@"
    ;;
  *) die "usage: tool.sh nodetool|rabbitmqctl <args…>" ;;
esac
