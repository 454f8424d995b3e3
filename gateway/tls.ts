// HTTPS only, also in development: on first start a self-signed certificate for the
// host names Squared answers on is generated into the data directory and reused after.
import fs from 'node:fs';
import path from 'node:path';
import selfsigned from 'selfsigned';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export async function ensureCertificate(dataDir: string, hostnames: string[]): Promise<TlsFiles & { created: boolean }> {
  const dir = path.join(dataDir, 'tls');
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) return { certFile, keyFile, created: false };
  fs.mkdirSync(dir, { recursive: true });
  const altNames = [...new Set(['localhost', ...hostnames])].map((name) =>
    /^[\d.]+$/.test(name) || name.includes(':') ? { type: 7 as const, ip: name } : { type: 2 as const, value: name });
  const now = new Date();
  const pems = await selfsigned.generate([{ name: 'commonName', value: hostnames[0] ?? 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + 825 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [...altNames, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  fs.writeFileSync(keyFile, pems.private, { mode: 0o600 });
  fs.writeFileSync(certFile, pems.cert);
  return { certFile, keyFile, created: true };
}
