// Starts a Squared process: the roles named in SQUARED_ROLES (all of them by default, the
// embedded mode), on the storage and fan-out the configuration selects.
import { ServiceBroker } from 'moleculer';
import { readConfig } from './cluster/config.ts';
import { LocalFanout } from './cluster/fanout/local-fanout.ts';
import { brokerOptions } from './moleculer.config.ts';
import { createPeopleService } from './actors/people/people.service.ts';
import { createRoomsService } from './actors/rooms/rooms.service.ts';
import { createTeamsService } from './actors/teams/teams.service.ts';
import { createGatewayService } from './gateway/gateway.service.ts';
import { openEmbeddedStorage } from './storage/embedded/index.ts';

const config = readConfig();
const storage = openEmbeddedStorage(config.dataDir, config.durableSync);
const fanout = new LocalFanout();
const broker = new ServiceBroker(brokerOptions(config, undefined));

if (config.roles.includes('actors')) {
  broker.createService(createPeopleService({ store: storage.people, dataDir: config.dataDir, adminEmail: config.adminEmail, adminPassword: config.adminPassword }));
  broker.createService(createRoomsService({ store: storage.rooms, fanout }));
  broker.createService(createTeamsService({ store: storage.teams }));
}
if (config.roles.includes('gateway')) {
  broker.createService(createGatewayService({
    config,
    fanout,
    rateLimits: storage.rateLimits,
    onListening(url) {
      // One machine-readable line for scripts and tests, besides the logs.
      process.stdout.write(`SQUARED_READY ${JSON.stringify({ url, dataDir: config.dataDir })}\n`);
    },
  }));
}

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  broker.logger.info({ signal }, 'shutting down');
  try {
    await broker.stop();
    await fanout.close();
    await storage.close();
  } finally {
    process.exit(0);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

try {
  await broker.start();
} catch (err) {
  broker.logger.fatal({ err }, 'Squared could not start');
  process.exit(1);
}
