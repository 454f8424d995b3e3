// One self-signed certificate for a bench run, used by Squared (placed in its data
// directory, which it then reuses instead of generating its own) and by the baseline.
import fs from 'node:fs';
import path from 'node:path';
import { ensureCertificate } from '../../gateway/tls.ts';

export interface BenchCert {
  certFile: string;
  keyFile: string;
  cert: Buffer;
}

export async function generateCert(dir: string): Promise<BenchCert> {
  // The same certificate Squared would generate for itself (gateway/tls.ts).
  const { certFile, keyFile } = await ensureCertificate(dir, ['127.0.0.1']);
  return { certFile, keyFile, cert: fs.readFileSync(certFile) };
}

/** Copies the certificate where Squared looks for its own (`<dataDir>/tls/`). */
export function installCertFor(dataDir: string, cert: BenchCert): void {
  const dir = path.join(dataDir, 'tls');
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(cert.certFile, path.join(dir, 'cert.pem'));
  fs.copyFileSync(cert.keyFile, path.join(dir, 'key.pem'));
  fs.chmodSync(path.join(dir, 'key.pem'), 0o600);
}
