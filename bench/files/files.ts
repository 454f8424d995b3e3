// Scenario `files`: the upload rate of one file (multipart POST /v1/messages, over HTTPS into
// an embedded Squared, stored fsynced in its BlobStore) next to `cp` of the same file with an
// fsync, on the same disk in the same run: the baseline is what the machine does to copy the
// bytes durably, without TLS, parsing, hashing or a message. Each repeat measures both, one
// right after the other; the medians are reported. Correctness: every upload is a 200 and the
// file downloaded back has the same bytes.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { ApiClient } from '../../clients/api-client.ts';
import { makeTempDir, removeTempDir } from '../lib/children.ts';
import { flagHelp, parseFlags, positiveNumber, type FlagSpec } from '../lib/cli.ts';
import { spawnServer, type ServerProcess } from '../lib/server-process.ts';
import { generateCert, installCertFor } from '../lib/tls.ts';
import { SQUARED_BENCH_ENV } from '../fanout/squared-target.ts';

export const description = 'upload MB/s of one file (multipart POST /v1/messages) vs cp of the same file, same disk, same run';

export const flags: Record<string, FlagSpec> = {
  mb: { default: '10', help: 'size of the file in MB (10^6 bytes)', parse: positiveNumber('mb', { integer: true }) },
  repeats: { default: '5', help: 'uploads (and copies) measured; medians reported', parse: positiveNumber('repeats', { integer: true }) },
};

export const usage = () => `Flags:\n${flagHelp(flags)}`;

const log = (line: string) => process.stderr.write(`${line}\n`);
const ROOT = path.resolve(import.meta.dirname, '../..');
const BOUNDARY = 'squared-bench-boundary';
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function upload(url: string, ca: Buffer, token: string, roomId: string, file: string): Promise<{ ms: number; body: any }> {
  const head = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="roomId"\r\n\r\n${roomId}\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="bench.bin"\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  const length = head.length + fs.statSync(file).size + tail.length;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = https.request(new URL('/v1/messages', url), {
      method: 'POST', ca, agent: false,
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': String(length) },
    }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve({ ms: performance.now() - started, body: JSON.parse(text) }) : reject(new Error(`upload -> ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.write(head);
    const source = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
    source.on('end', () => req.end(tail));
    source.pipe(req, { end: false });
  });
}

function download(url: string, ca: Buffer, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const hash = createHash('sha256');
      res.on('data', (chunk) => hash.update(chunk));
      res.on('end', () => resolve(hash.digest('hex')));
    }).on('error', reject);
  });
}

/** `cp` then `sync` of the copy: the durable copy Squared's fsynced put is compared with. */
function copy(file: string, dir: string): number {
  const target = path.join(dir, `copy-${randomBytes(4).toString('hex')}`);
  const started = performance.now();
  execFileSync('cp', [file, target]);
  execFileSync('sync', [target]);
  const ms = performance.now() - started;
  fs.rmSync(target);
  return ms;
}

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags(argv, flags);
  const [mb, repeats] = [Number(f.mb), Number(f.repeats)];
  const command = `npm run bench -- files --mb ${mb} --repeats ${repeats}`;
  log(`files: ${mb} MB × ${repeats}; node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`);
  const certDir = makeTempDir('bench-cert-');
  const dataDir = makeTempDir('squared-bench-');
  const scratch = makeTempDir('bench-files-');
  const cert = await generateCert(certDir);
  installCertFor(dataDir, cert);
  let squared: ServerProcess | undefined;
  try {
    squared = await spawnServer({
      name: 'Squared', script: path.join(ROOT, 'squared.ts'), cwd: ROOT, readyPrefix: 'SQUARED_READY',
      // SQUARED_SYNC=full: the upload is fsynced before its 200, like the baseline's sync.
      env: { ...SQUARED_BENCH_ENV, SQUARED_DATA_DIR: dataDir, SQUARED_PORT: '0', SQUARED_SYNC: 'full' },
    });
    const url: string = squared.ready.url;
    const { token } = JSON.parse(fs.readFileSync(path.join(dataDir, 'admin.json'), 'utf8'));
    const admin = new ApiClient(url, cert.cert, token);
    const room = await admin.post('/v1/rooms', { title: 'bench files' });
    const uploads: number[] = [];
    const copies: number[] = [];
    for (let i = 0; i < repeats; i++) {
      // A new file each time: the same bytes would be stored once (content addressing).
      const file = path.join(scratch, `file-${i}.bin`);
      const bytes = randomBytes(mb * 1_000_000);
      fs.writeFileSync(file, bytes);
      const sent = await upload(url, cert.cert, token, room.body.id, file);
      uploads.push(sent.ms);
      copies.push(copy(file, scratch));
      const back = await download(sent.body.files[0], cert.cert, token);
      if (back !== createHash('sha256').update(bytes).digest('hex')) throw new Error('the downloaded file differs from the upload');
      fs.rmSync(file);
      log(`  #${i + 1}: upload ${sent.ms.toFixed(0)} ms, cp+sync ${copies[i].toFixed(0)} ms`);
    }
    const mbps = (ms: number) => mb / (ms / 1000);
    const [u, c] = [median(uploads), median(copies)];
    process.stdout.write([
      `files — ${command}`,
      `| | Squared upload (HTTPS multipart → BlobStore, fsynced) | cp + sync of the same file | ratio |`,
      '| --- | --- | --- | --- |',
      `| median time (ms) | ${u.toFixed(0)} | ${c.toFixed(0)} | ${(u / c).toFixed(2)} |`,
      `| MB/s | ${mbps(u).toFixed(0)} | ${mbps(c).toFixed(0)} | ${(mbps(u) / mbps(c)).toFixed(2)} |`,
      '',
    ].join('\n'));
    admin.close();
  } finally {
    await squared?.stop();
    removeTempDir(dataDir);
    removeTempDir(certDir);
    removeTempDir(scratch);
  }
  return 0;
}
