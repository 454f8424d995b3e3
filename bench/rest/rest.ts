// Scenario `rest`: Webex REST traffic against an embedded Squared, endpoint by endpoint,
// next to a raw uWebSockets.js SSLApp answering the same bytes (the baseline: TLS, HTTP
// and the response itself, nothing else). Load from autocannon's programmatic API, the same
// connections and duration for both, each endpoint measured on Squared and on the baseline
// one right after the other so that the machine's noise hits both alike. Correctness: every
// answer of Squared must be a 2xx, and every acknowledged post must be in the room after.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { ApiClient } from '../../clients/api-client.ts';
import { makeTempDir, removeTempDir } from '../lib/children.ts';
import { cpuMs } from '../lib/proc.ts';
import { flagHelp, parseFlags, positiveNumber, type FlagSpec } from '../lib/cli.ts';
import { spawnServer, type ServerProcess } from '../lib/server-process.ts';
import { generateCert, installCertFor } from '../lib/tls.ts';
import { SQUARED_BENCH_ENV } from '../fanout/squared-target.ts';
import type { CannedResponse } from './baseline-server.ts';

export const description = 'REST endpoints (autocannon): Squared embedded vs a raw uWS SSLApp answering the same bytes';

export const flags: Record<string, FlagSpec> = {
  seconds: { default: '10', help: 'load time per endpoint and target', parse: positiveNumber('seconds', { integer: true }) },
  connections: { default: '50', help: 'concurrent keep-alive connections (autocannon)', parse: positiveNumber('connections', { integer: true }) },
  rooms: { default: '20', help: 'rooms the reading person is a member of (GET /v1/rooms lists them)', parse: positiveNumber('rooms', { integer: true }) },
  messages: { default: '50', help: 'messages in the room that GET /v1/messages reads (max=50)', parse: positiveNumber('messages', { integer: true }) },
  sync: { default: 'full', help: 'SQUARED_SYNC of the Squared under test (full: fsync per commit)', parse: (v) => v },
};

export const usage = () => `Flags:\n${flagHelp(flags)}`;

const log = (line: string) => process.stderr.write(`${line}\n`);
const ROOT = path.resolve(import.meta.dirname, '../..');

interface Endpoint {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

interface Measured {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  requests: number;
  serverCpuMicrosPerRequest: number;
}

async function load(url: string, endpoint: Endpoint, token: string, seconds: number, connections: number, pid: number): Promise<Measured> {
  const cpuBefore = cpuMs(pid) ?? 0;
  const result = await autocannon({
    url: `${url}${endpoint.path}`,
    method: endpoint.method,
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${token}`, ...(endpoint.body ? { 'content-type': 'application/json' } : {}) },
    ...(endpoint.body ? { body: endpoint.body } : {}),
  });
  const cpu = (cpuMs(pid) ?? cpuBefore) - cpuBefore;
  const requests = result.requests.total;
  return {
    requestsPerSecond: requests / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    requests,
    serverCpuMicrosPerRequest: requests > 0 ? (cpu * 1000) / requests : 0,
  };
}

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags(argv, flags);
  const seconds = Number(f.seconds);
  const connections = Number(f.connections);
  const rooms = Number(f.rooms);
  const messages = Number(f.messages);
  const command = `npm run bench -- rest --seconds ${seconds} --connections ${connections} --rooms ${rooms} --messages ${messages} --sync ${f.sync}`;
  log(`rest: ${connections} connections, ${seconds} s per endpoint and target; node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`);

  const certDir = makeTempDir('bench-cert-');
  const dataDir = makeTempDir('squared-bench-');
  const cert = await generateCert(certDir);
  installCertFor(dataDir, cert);
  const servers: ServerProcess[] = [];
  const results: { endpoint: string; squared: Measured; baseline: Measured }[] = [];
  let failures = 0;
  try {
    const squared = await spawnServer({
      name: 'Squared', script: path.join(ROOT, 'squared.ts'), cwd: ROOT, readyPrefix: 'SQUARED_READY',
      env: { ...SQUARED_BENCH_ENV, SQUARED_DATA_DIR: dataDir, SQUARED_PORT: '0', SQUARED_SYNC: f.sync },
    });
    servers.push(squared);
    const url: string = squared.ready.url;

    // Set-up through the API (not measured): one reader in `rooms` rooms, `messages` in the first.
    const { token: adminToken } = JSON.parse(fs.readFileSync(path.join(dataDir, 'admin.json'), 'utf8'));
    const admin = new ApiClient(url, cert.cert, adminToken);
    const reader = await admin.post('/v1/bots', { displayName: 'Bench Reader' });
    if (reader.status !== 200) throw new Error(`POST /v1/bots -> ${reader.status} ${reader.text}`);
    const api = admin.as(reader.body.token);
    const roomIds: string[] = [];
    for (let r = 0; r < rooms; r++) {
      const room = await api.post('/v1/rooms', { title: `bench room ${r}` });
      if (room.status !== 200) throw new Error(`POST /v1/rooms -> ${room.status} ${room.text}`);
      roomIds.push(room.body.id);
    }
    for (let m = 0; m < messages; m++) {
      const posted = await api.post('/v1/messages', { roomId: roomIds[0], text: `bench message ${m}` });
      if (posted.status !== 200) throw new Error(`POST /v1/messages -> ${posted.status} ${posted.text}`);
    }
    // The posts go to a room of their own, so that the listing above reads the same page throughout.
    const postRoom = await api.post('/v1/rooms', { title: 'bench posts' });
    const endpoints: Endpoint[] = [
      { name: 'GET /v1/rooms', method: 'GET', path: '/v1/rooms' },
      { name: 'GET /v1/messages?roomId=', method: 'GET', path: `/v1/messages?roomId=${encodeURIComponent(roomIds[0])}&max=50` },
      { name: 'POST /v1/messages', method: 'POST', path: '/v1/messages', body: JSON.stringify({ roomId: postRoom.body.id, text: 'bench post' }) },
    ];

    // What the baseline answers: Squared's own answer to each request, byte for byte.
    const canned: CannedResponse[] = [];
    for (const endpoint of endpoints) {
      const answer = endpoint.method === 'GET' ? await api.get(endpoint.path) : await api.post(endpoint.path, JSON.parse(endpoint.body!));
      if (answer.status !== 200) throw new Error(`${endpoint.name} -> ${answer.status} ${answer.text}`);
      canned.push({ method: endpoint.method, path: endpoint.path, status: 200, contentType: 'application/json', body: answer.text });
    }
    const responsesFile = path.join(certDir, 'responses.json');
    fs.writeFileSync(responsesFile, JSON.stringify(canned));
    const baseline = await spawnServer({
      name: 'baseline server', script: path.join(import.meta.dirname, 'baseline-server.ts'), cwd: ROOT, readyPrefix: 'BASELINE_READY', stdinPipe: true,
      env: { BASELINE_CERT: cert.certFile, BASELINE_KEY: cert.keyFile, BASELINE_RESPONSES: responsesFile },
    });
    servers.push(baseline);
    const baselineUrl = `https://127.0.0.1:${baseline.ready.port}`;

    let posted = 1;
    for (const endpoint of endpoints) {
      log(`\n[${endpoint.name}]`);
      const s = await load(url, endpoint, reader.body.token, seconds, connections, squared.pid);
      log(`  squared:  ${s.requestsPerSecond.toFixed(0)} req/s, p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, ${s.non2xx} non-2xx, ${s.errors} errors`);
      const b = await load(baselineUrl, endpoint, reader.body.token, seconds, connections, baseline.pid);
      log(`  baseline: ${b.requestsPerSecond.toFixed(0)} req/s, p50 ${b.p50Ms} ms, p99 ${b.p99Ms} ms`);
      if (s.non2xx + s.errors + s.timeouts > 0) failures++;
      if (endpoint.method === 'POST') posted += s.requests - s.non2xx - s.errors;
      results.push({ endpoint: endpoint.name, squared: s, baseline: b });
    }
    // Every acknowledged post is in its room (read back through the API, newest first).
    let found = 0;
    for (let before: string | undefined; ;) {
      const page = await api.get(`/v1/messages?roomId=${encodeURIComponent(postRoom.body.id)}&max=1000${before ? `&beforeMessage=${before}` : ''}`);
      if (page.status !== 200) throw new Error(`reading the posts back -> ${page.status} ${page.text}`);
      found += page.body.items.length;
      if (page.body.items.length < 1000) break;
      before = page.body.items[page.body.items.length - 1].id;
    }
    // Posts still in flight when the load stopped may be committed without being counted:
    // at most one per connection.
    if (found < posted || found > posted + connections) {
      log(`\nFAILED: ${posted} posts acknowledged, ${found} in the room (at most ${connections} more were in flight)`);
      failures++;
    }
    admin.close();
    const warnings = squared.warnings();
    if (warnings.count > 0) log(`\nSquared logged ${warnings.count} warnings, e.g.:\n${warnings.examples.join('\n')}`);
  } finally {
    for (const server of servers.reverse()) await server.stop();
    removeTempDir(dataDir);
    removeTempDir(certDir);
  }

  const header = ['endpoint', 'squared req/s', 'baseline req/s', 'ratio', 'squared p50/p99 ms', 'baseline p50/p99 ms', 'squared CPU µs/req', 'baseline CPU µs/req', 'CPU ratio'];
  const rows = results.map(({ endpoint, squared: s, baseline: b }) => [
    endpoint, s.requestsPerSecond.toFixed(0), b.requestsPerSecond.toFixed(0), `${(s.requestsPerSecond / b.requestsPerSecond).toFixed(2)}x`,
    `${s.p50Ms}/${s.p99Ms}`, `${b.p50Ms}/${b.p99Ms}`, s.serverCpuMicrosPerRequest.toFixed(0), b.serverCpuMicrosPerRequest.toFixed(0),
    `${(s.serverCpuMicrosPerRequest / b.serverCpuMicrosPerRequest).toFixed(1)}x`,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  process.stdout.write(`${['', line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), '', `reproduce: ${command}`].join('\n')}\n`);
  process.stdout.write(`BENCH_RESULT ${JSON.stringify({ scenario: 'rest', params: { seconds, connections, rooms, messages, sync: f.sync }, results, command })}\n`);
  return failures > 0 ? 1 : 0;
}
