// Squared as a fan-out target: a real process (embedded mode) on the bench certificate,
// one poster bot per room (member, no socket), one bot per live socket (member of one
// room), messages posted with POST /v1/messages over HTTPS keep-alive connections.
import https from 'node:https';
import path from 'node:path';
import fs from 'node:fs';
import { ApiClient } from '../../test/harness/api-client.ts';
import { makeTempDir, removeTempDir } from '../lib/children.ts';
import { spawnServer, type ServerProcess } from '../lib/server-process.ts';
import { installCertFor, type BenchCert } from '../lib/tls.ts';
import type { FleetSpec } from './fleet.ts';
import type { Poster } from './load.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface SquaredTarget {
  server: ServerProcess;
  fleetSpec: FleetSpec;
  poster: Poster & { close(): void };
  stop(): Promise<void>;
}

async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, async () => {
    while (next < n) await fn(next++);
  }));
}

export async function startSquaredTarget(options: { sockets: number; rooms: number; sync: 'full' | 'normal'; postConns: number; cert: BenchCert; log: (line: string) => void }): Promise<SquaredTarget> {
  const { sockets, rooms, cert, log } = options;
  const dataDir = makeTempDir('squared-bench-');
  installCertFor(dataDir, cert);
  const server = await spawnServer({
    name: 'Squared',
    script: path.join(ROOT, 'squared.ts'),
    cwd: ROOT,
    readyPrefix: 'SQUARED_READY',
    env: {
      SQUARED_DATA_DIR: dataDir,
      SQUARED_HOST: '127.0.0.1',
      SQUARED_PORT: '0',
      SQUARED_LOG_LEVEL: 'warn',
      SQUARED_RATE_BURST: '1000000',
      SQUARED_RATE_PER_SECOND: '1000000',
      SQUARED_SYNC: options.sync,
    },
  });
  const url: string = server.ready.url;
  const stop = async () => {
    await server.stop();
    removeTempDir(dataDir);
  };
  try {
    const admin = JSON.parse(fs.readFileSync(path.join(dataDir, 'admin.json'), 'utf8'));
    const api = new ApiClient(url, cert.cert, admin.token);
    const started = Date.now();

    const bot = async (displayName: string): Promise<{ id: string; token: string }> => {
      const r = await api.post('/v1/bots', { displayName });
      if (r.status !== 200) throw new Error(`POST /v1/bots -> ${r.status} ${r.text}`);
      return { id: r.body.id, token: r.body.token };
    };
    const posters: { id: string; token: string }[] = new Array(rooms);
    const roomIds: string[] = new Array(rooms);
    await pool(rooms, 8, async (r) => {
      posters[r] = await bot(`Bench Poster ${r}`);
      const room = await api.as(posters[r].token).post('/v1/rooms', { title: `bench room ${r}` });
      if (room.status !== 200) throw new Error(`POST /v1/rooms -> ${room.status} ${room.text}`);
      roomIds[r] = room.body.id;
    });
    const members: { id: string; token: string }[] = new Array(sockets);
    await pool(sockets, 16, async (i) => {
      members[i] = await bot(`Bench Member ${i}`);
      const r = i % rooms;
      const m = await api.as(posters[r].token).post('/v1/memberships', { roomId: roomIds[r], personId: members[i].id });
      if (m.status !== 200) throw new Error(`POST /v1/memberships -> ${m.status} ${m.text}`);
      if ((i + 1) % Math.max(500, Math.ceil(sockets / 4 / 500) * 500) === 0) log(`    ${i + 1}/${sockets} members created`);
    });
    api.close();
    log(`    setup: ${rooms} rooms, ${sockets} member bots in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const base = new URL(url);
    const agent = new https.Agent({ ca: cert.cert, keepAlive: true, maxSockets: options.postConns });
    const poster: Poster & { close(): void } = {
      post(room, _k, text) {
        const body = JSON.stringify({ roomId: roomIds[room], text });
        return new Promise((resolve, reject) => {
          const req = https.request({
            host: base.hostname, port: base.port, path: '/v1/messages', method: 'POST', agent, timeout: 30_000,
            headers: { authorization: `Bearer ${posters[room].token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          }, (res) => {
            if (res.statusCode === 200) {
              res.resume();
              res.on('end', () => resolve());
            } else {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 300)}`)));
            }
            res.on('error', (err) => reject(new Error(`response ${err.message}`)));
          });
          req.on('timeout', () => req.destroy(new Error('timeout: no response in 30 s')));
          req.on('error', (err: NodeJS.ErrnoException) => reject(new Error(`${err.code ?? 'error'}: ${err.message}`)));
          req.end(body);
        });
      },
      close: () => agent.destroy(),
    };

    return {
      server,
      poster,
      fleetSpec: {
        sockets,
        url: `${url.replace(/^https/, 'wss')}/v1/live`,
        ca: cert.cert,
        roomOf: (i) => i % rooms,
        roomKey: (r) => roomIds[r],
        hello: (i, resume) => JSON.stringify({ type: 'hello', token: members[i].token, ...(resume ? { resume } : {}) }),
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
