// `npm run repl`: the operators' console. On a cluster (SQUARED_NATS, SQUARED_NAMESPACE) it
// joins as a node with no services of its own and opens Moleculer's console, with
// Squared's commands beside Moleculer's own (`help`; `cluster`, `room <id>`, `person
// <id|email>`, `meetings`, `drain <node>`; `nodes`, `services`, `call <action> --param value`).
// Without SQUARED_NATS it attaches to the embedded `npm start` of SQUARED_DATA_DIR through
// its console socket (console-socket.ts), where the process runs the same commands.
import os from 'node:os';
import { ServiceBroker } from 'moleculer';
import { readConfig } from '../contracts/config.ts';
import { brokerOptions } from '../moleculer.config.ts';
import { attachToEmbedded } from './console-client.ts';
import { replCustomCommands } from './repl-commands/index.ts';

const config = readConfig();
const nats = config.engines.nats?.servers.join(',');
if (!nats) {
  process.exit(await attachToEmbedded(config.dataDir));
}
// The console's own output is what matters: the broker says only what goes wrong.
const broker = new ServiceBroker({
  ...brokerOptions({ ...config, nodeId: `repl-${os.hostname()}-${process.pid}`, logLevel: 'warn', metricsPort: undefined }, nats),
  replOptions: { customCommands: replCustomCommands(), delimiter: 'squared $' },
});
await broker.start();
await broker.repl();
