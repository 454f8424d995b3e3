// Starts a real Squared process for the tests (embedded mode, its own data directory and
// a free port) and stops it, gently or with SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stopProcess } from '../../cluster/stop-process.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface SquaredProcess {
  url: string;
  dataDir: string;
  ca: Buffer;
  adminToken: string;
  adminEmail: string;
  adminPassword: string;
  child: ChildProcess;
  /** Everything the process wrote, for diagnosing a failure. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts a new process on the same data directory (and port), e.g. after a kill -9. */
  restart(): Promise<SquaredProcess>;
}

export async function startSquared(options: { env?: Record<string, string>; dataDir?: string; port?: number; expectAdminFile?: boolean } = {}): Promise<SquaredProcess> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'squared-test-'));
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(ROOT, 'squared.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      SQUARED_DATA_DIR: dataDir,
      SQUARED_PORT: String(options.port ?? 0),
      SQUARED_LOG_LEVEL: process.env.SQUARED_TEST_LOG_LEVEL ?? 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Squared did not start in time:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /^SQUARED_READY (.+)$/m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(JSON.parse(match[1]).url);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Squared exited with ${code} before it was ready:\n${output}`));
    });
  });
  // A data directory whose administrator was made otherwise (npm run admin) has no admin.json.
  const admin = options.expectAdminFile === false ? {} : JSON.parse(fs.readFileSync(path.join(dataDir, 'admin.json'), 'utf8'));
  const port = Number(new URL(url).port);
  const proc: SquaredProcess = {
    url,
    dataDir,
    ca: fs.readFileSync(path.join(dataDir, 'tls', 'cert.pem')),
    adminToken: admin.token,
    adminEmail: admin.email,
    adminPassword: admin.password,
    child,
    output: () => output,
    stop: (signal = 'SIGTERM') => stopProcess(child, signal, 15_000),
    async restart() {
      await proc.stop();
      return startSquared({ ...options, dataDir, port });
    },
  };
  return proc;
}
