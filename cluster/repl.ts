// `npm run repl`: the operators' console. On a cluster (SQUARED_NATS, SQUARED_NAMESPACE) it
// joins as a node with no services of its own and opens Moleculer's console, with
// Squared's commands beside Moleculer's own (`help`; `cluster`, `room <id>`, `person
// <id|email>`, `meetings`, `drain <node>`; `nodes`, `services`, `call <action> --param value`).
// Without SQUARED_NATS it attaches to the embedded `npm start` of SQUARED_DATA_DIR through
// its console socket (console-socket.ts), where the process runs the same commands.
// With a command on its command line (`npm run repl -- room <id>`, `npm run reindex`) it runs
// only that one, prints its answer and exits: 0 if it did what was asked, 1 if not.
import os from 'node:os';
import { ServiceBroker } from 'moleculer';
import { readConfig } from '../contracts/config.ts';
import { brokerOptions } from '../moleculer.config.ts';
import { attachToEmbedded } from './console-client.ts';
import { replCustomCommands, runLine } from './repl-commands/index.ts';

const config = readConfig();
const nats = config.engines.nats?.servers.join(',');
const oneShot = process.argv.length > 2 ? process.argv.slice(2).join(' ') : undefined;
if (!nats) {
  process.exit(await attachToEmbedded(config.dataDir, oneShot));
}
// The console's own output is what matters: the broker says only what goes wrong.
const broker = new ServiceBroker({
  ...brokerOptions({ ...config, nodeId: `repl-${os.hostname()}-${process.pid}`, logLevel: 'warn', metricsPort: undefined }, nats),
  replOptions: { customCommands: replCustomCommands(), delimiter: 'squared $' },
});
await broker.start();
if (oneShot === undefined) {
  await broker.repl();
} else {
  await meetTheCluster(broker);
  const { output, ok } = await runLine(broker, oneShot);
  process.stdout.write(`${output}\n`);
  await broker.stop();
  process.exit(ok ? 0 : 1);
}

/**
 * A node that just joined knows the others once they answered its discovery (a moment; no
 * message says "that was all of them"): it waits until some node is known and the list has
 * not grown for a second, ten seconds at most, so that commands asking every node ask them all.
 */
async function meetTheCluster(broker: ServiceBroker): Promise<void> {
  const known = () => broker.registry.nodes.list({ onlyAvailable: true, withServices: false }).length;
  const deadline = Date.now() + 10_000;
  let count = known();
  let stableSince = Date.now();
  while (Date.now() < deadline && (count <= 1 || Date.now() - stableSince < 1000)) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (known() !== count) {
      count = known();
      stableSince = Date.now();
    }
  }
}
