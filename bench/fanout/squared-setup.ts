// The part of a Squared target that does not depend on its shape (one process or a
// cluster): set-up through the REST API, the live sockets' spec and the poster.
// One poster bot per room (member, no socket), one bot per live socket (member of one
// room); messages are posted with POST /v1/messages over HTTPS keep-alive connections,
// spread over the given REST URLs (a cluster's gateways) by room.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { ApiClient } from '../../clients/api-client.ts';
import type { BenchCert } from '../lib/tls.ts';
import type { FleetSpec } from './fleet.ts';
import type { Poster } from './load.ts';

export interface SquaredSetupOptions {
  sockets: number;
  rooms: number;
  postConns: number;
  cert: BenchCert;
  /** Where admin.json is (written by the process that created the first administrator). */
  dataDir: string;
  restUrls: string[];
  liveUrls: string[];
  log: (line: string) => void;
}

async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, async () => {
    while (next < n) await fn(next++);
  }));
}

export async function prepareSquared(options: SquaredSetupOptions): Promise<{ fleetSpec: FleetSpec; poster: Poster & { close(): void } }> {
  const { sockets, rooms, cert, log, restUrls, liveUrls } = options;
  const admin = JSON.parse(fs.readFileSync(path.join(options.dataDir, 'admin.json'), 'utf8'));
  const api = new ApiClient(restUrls[0], cert.cert, admin.token);
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

  // One connection pool per REST URL; room r posts through restUrls[r % n].
  const agents = restUrls.map(() => new https.Agent({ ca: cert.cert, keepAlive: true, maxSockets: Math.max(1, Math.ceil(options.postConns / restUrls.length)) }));
  const bases = restUrls.map((u) => new URL(u));
  const poster: Poster & { close(): void } = {
    post(room, _k, text) {
      const body = JSON.stringify({ roomId: roomIds[room], text });
      const base = bases[room % bases.length];
      return new Promise((resolve, reject) => {
        const req = https.request({
          host: base.hostname, port: base.port, path: '/v1/messages', method: 'POST', agent: agents[room % agents.length], timeout: 30_000,
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
    close: () => agents.forEach((agent) => agent.destroy()),
  };

  return {
    poster,
    fleetSpec: {
      sockets,
      urls: liveUrls.map((u) => `${u.replace(/^https/, 'wss')}/v1/live`),
      ca: cert.cert,
      roomOf: (i) => i % rooms,
      roomKey: (r) => roomIds[r],
      hello: (i, resume) => JSON.stringify({ type: 'hello', token: members[i].token, ...(resume ? { resume } : {}) }),
    },
  };
}
