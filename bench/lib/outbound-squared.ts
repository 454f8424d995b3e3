// An embedded Squared for the scenarios that measure what it sends out (webhooks, Web Push)
// to receivers the driver runs on 127.0.0.1: the outbound policy opened for that address,
// the bench certificate trusted for it, and the first administrator's client.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from '../../clients/api-client.ts';
import { SQUARED_BENCH_ENV } from '../fanout/squared-target.ts';
import { spawnServer, type ServerProcess } from './server-process.ts';
import type { BenchCert } from './tls.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** `dataDir` must hold the bench certificate already (installCertFor). */
export async function startOutboundSquared(cert: BenchCert, dataDir: string): Promise<{ server: ServerProcess; url: string; admin: ApiClient }> {
  const server = await spawnServer({
    name: 'Squared', script: path.join(ROOT, 'squared.ts'), cwd: ROOT, readyPrefix: 'SQUARED_READY',
    env: { ...SQUARED_BENCH_ENV, SQUARED_DATA_DIR: dataDir, SQUARED_PORT: '0', SQUARED_WEBHOOK_ALLOW_HOSTS: '127.0.0.1', NODE_EXTRA_CA_CERTS: cert.certFile },
  });
  const url: string = server.ready.url;
  const { token } = JSON.parse(fs.readFileSync(path.join(dataDir, 'admin.json'), 'utf8'));
  return { server, url, admin: new ApiClient(url, cert.cert, token) };
}

/** Whether `condition` held within `timeoutMs` (checked every 20 ms). */
export async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}
