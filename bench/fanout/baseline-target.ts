// The baseline as a fan-out target: bench/fanout/baseline-server.ts in its own process,
// the same sockets and rooms, one poster WebSocket per room (each post acknowledged).
import path from 'node:path';
import WebSocket from 'ws';
import { spawnServer } from '../lib/server-process.ts';
import type { BenchCert } from '../lib/tls.ts';
import type { Poster } from './load.ts';
import type { FanoutTarget } from './target.ts';

export async function startBaselineTarget(options: { sockets: number; rooms: number; frameBytes: number; cert: BenchCert }): Promise<FanoutTarget> {
  const { sockets, rooms, cert } = options;
  const server = await spawnServer({
    name: 'baseline server',
    script: path.join(import.meta.dirname, 'baseline-server.ts'),
    cwd: path.resolve(import.meta.dirname, '../..'),
    readyPrefix: 'BASELINE_READY',
    stdinPipe: true,
    env: { BASELINE_CERT: cert.certFile, BASELINE_KEY: cert.keyFile, BASELINE_FRAME_BYTES: String(options.frameBytes) },
  });
  const base = `wss://127.0.0.1:${server.ready.port}`;
  const roomKey = (r: number) => `room-${r}`;

  const pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  const posters: WebSocket[] = [];
  try {
    for (let r = 0; r < rooms; r++) {
      const ws = new WebSocket(`${base}/post`, { ca: cert.cert, perMessageDeflate: false, skipUTF8Validation: true });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      ws.on('error', () => {});
      ws.on('message', (data: Buffer) => {
        const k = JSON.parse(data.toString()).k as number;
        pending.get(k)?.resolve();
        pending.delete(k);
      });
      ws.on('close', (code) => {
        for (const [k, p] of pending) {
          if (k % rooms === r) {
            p.reject(new Error(`closed: poster socket closed with ${code}`));
            pending.delete(k);
          }
        }
      });
      posters.push(ws);
    }
  } catch (err) {
    for (const ws of posters) ws.terminate();
    await server.stop();
    throw new Error(`baseline poster could not connect: ${(err as Error).message}`);
  }

  const poster: Poster & { close(): void } = {
    post(room, k, text) {
      const ws = posters[room];
      if (ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('closed: poster socket is not open'));
      return new Promise((resolve, reject) => {
        pending.set(k, { resolve, reject });
        ws.send(JSON.stringify({ room: roomKey(room), k, text }));
      });
    },
    close() {
      for (const ws of posters) ws.terminate();
    },
  };

  return {
    servers: [server],
    enginePids: [],
    poster,
    fleetSpec: {
      sockets,
      urls: [`${base}/live`],
      ca: cert.cert,
      roomOf: (i) => i % rooms,
      roomKey,
      hello: (_i, _resume) => JSON.stringify({ type: 'hello', topic: roomKey(_i % rooms) }),
    },
    stop: () => server.stop(),
  };
}
