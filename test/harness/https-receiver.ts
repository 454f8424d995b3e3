// A real HTTPS server standing for a webhook target or a remote file host: it records every
// request with its raw body bytes and answers as the test scripts it (status, delay,
// headers, body, or a hang). Its certificate is self-signed; `caFile` is there to be
// trusted through NODE_EXTRA_CA_CERTS by a Squared process.
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { ensureCertificate } from '../../gateway/tls.ts';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  raw: Buffer;
  at: number;
}

export interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Never answers (the client's timeout must end it). */
  hang?: boolean;
  /** Answers after this long (a slow but healthy target). */
  delayMs?: number;
}

/** Decides each answer; returns undefined for a plain 200. */
export type Responder = (request: ReceivedRequest, countForPath: number) => Answer | undefined;

export interface HttpsReceiver {
  port: number;
  /** https://localhost:<port> */
  url: string;
  ca: Buffer;
  caFile: string;
  requests: ReceivedRequest[];
  on(pathPrefix: string, responder: Responder): void;
  received(pathPrefix: string): ReceivedRequest[];
  close(): Promise<void>;
}

export async function startHttpsReceiver(): Promise<HttpsReceiver> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-receiver-'));
  // The certificate's directory goes with the receiver — also when the test process ends
  // without closing it (a failed before(), an exception): nothing is left in the tmp dir.
  const removeDir = () => fs.rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  let files: { certFile: string; keyFile: string };
  try {
    // Also named by this machine's host name, which resolves to a loopback address here: the SSRF tests use it.
    files = await ensureCertificate(dir, ['localhost', os.hostname()]);
  } catch (err) {
    removeDir();
    process.removeListener('exit', removeDir);
    throw err;
  }
  const { certFile, keyFile } = files;
  const requests: ReceivedRequest[] = [];
  const responders: [string, Responder][] = [];
  const server = https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw: Buffer.concat(chunks), at: Date.now() };
      requests.push(received);
      const match = responders.filter(([prefix]) => received.path.startsWith(prefix)).sort((a, b) => b[0].length - a[0].length)[0];
      const count = requests.filter((r) => r.path === received.path).length;
      const answer = match?.[1](received, count) ?? {};
      if (answer.hang) return;
      const send = () => {
        res.writeHead(answer.status ?? 200, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.body ?? 'ok');
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `https://localhost:${port}`,
    ca: fs.readFileSync(certFile),
    caFile: certFile,
    requests,
    on: (prefix, responder) => void responders.push([prefix, responder]),
    received: (prefix) => requests.filter((r) => r.path.startsWith(prefix)),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      removeDir();
      process.removeListener('exit', removeDir);
    },
  };
}
