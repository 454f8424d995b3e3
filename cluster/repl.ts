// `npm run repl`: Moleculer's interactive console on a running cluster. It joins the
// cluster (SQUARED_NATS, SQUARED_NAMESPACE) as a node with no services of its own, so an
// operator can list nodes, services and actions, watch events, and call actions
// (`nodes`, `services`, `actions`, `events`, `call rooms.liveRooms --personId …`; `help`).
import os from 'node:os';
import { ServiceBroker } from 'moleculer';
import { readConfig } from '../contracts/config.ts';
import { brokerOptions } from '../moleculer.config.ts';

const config = readConfig();
const nats = config.engines.nats?.servers.join(',');
if (!nats) {
  process.stderr.write('npm run repl joins a cluster: set SQUARED_NATS (e.g. nats://127.0.0.1:4222) to the cluster\'s NATS.\n');
  process.exit(1);
}
// The console's own output is what matters: the broker says only what goes wrong.
const broker = new ServiceBroker(brokerOptions({ ...config, nodeId: `repl-${os.hostname()}-${process.pid}`, logLevel: 'warn', metricsPort: undefined }, nats));
await broker.start();
await broker.repl();
