// A throwaway nats-server for tests that stop and start the transporter of their own
// cluster, so that the shared engine, and every other test on it, is never disturbed.
import { spawn, type ChildProcess } from 'node:child_process';

/** A nats-server on `port`, loopback only, without JetStream (Squared uses core NATS). */
export async function startNats(port: number): Promise<ChildProcess> {
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nats-server on ${port} not ready in 10 s:\n${output}`)), 10_000);
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Server is ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    // nats-server logs to stderr.
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`nats-server on ${port} exited with ${code}:\n${output}`));
    });
  });
  return child;
}

export async function stopNats(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
