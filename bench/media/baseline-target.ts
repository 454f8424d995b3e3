// The plain forwarding baseline of the media bench: bench/media/forwarder.c, compiled here
// with the system's C compiler, forwarding every packet as many times as the SFU does.
import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import path from 'node:path';
import readline from 'node:readline';
import { makeTempDir } from '../lib/children.ts';
import { track } from '../lib/children.ts';

export interface BaselineTarget {
  pid: number;
  ports: number[];
  forwarded(): Promise<number>;
  stop(): Promise<void>;
}

export async function startForwarderBaseline(participants: number): Promise<BaselineTarget> {
  const dir = makeTempDir('bench-forwarder-');
  const binary = path.join(dir, 'forwarder');
  execFileSync('cc', ['-O2', '-o', binary, path.join(import.meta.dirname, 'forwarder.c')], { stdio: 'inherit' });
  const sink = dgram.createSocket({ type: 'udp4', recvBufferSize: 4096 });
  await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
  const child = spawn(binary, [String(participants), String(participants - 1), String(sink.address().port)], { stdio: ['pipe', 'pipe', 'inherit'] });
  track(child);
  const lines = readline.createInterface({ input: child.stdout! });
  const next = () => new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`forwarder exited with ${code}`)));
  });
  const ready = await next();
  if (!ready.startsWith('READY ')) throw new Error(`forwarder said: ${ready}`);
  return {
    pid: child.pid!,
    ports: ready.slice(6).split(',').map(Number),
    async forwarded() {
      const reply = next();
      child.stdin!.write('stats\n');
      return Number(await reply);
    },
    async stop() {
      child.stdin!.end();
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      sink.close();
    },
  };
}
