// The operators' console of an embedded installation: a Unix socket in the data directory
// (repl.sock, mode 0600: only the installation's owner can connect), over which the process
// runs the same commands `npm run repl` runs on a cluster (repl-commands/), against its own
// broker. Lines go in as `{"line": "room <id>"}`, answers come back as `{"output": "…", "ok": true}`
// (`ok`: the command did what was asked), one JSON document per line. Embedded processes only: in a cluster every node would share
// the data directory's socket, and the console joins over the transporter instead.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import type { ServiceBroker } from 'moleculer';
import { runLine, type CommandAnswer } from './repl-commands/index.ts';

export const CONSOLE_SOCKET = 'repl.sock';

/** A typed line is at most this long: the console is for people, not for bulk input. */
const MAX_LINE = 4096;

export interface ConsoleSocket {
  path: string;
  close(): Promise<void>;
}

/** Whether something answers on the socket (a running process), or it is left over from a crash. */
function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

export async function openConsoleSocket(broker: ServiceBroker, dataDir: string): Promise<ConsoleSocket | undefined> {
  const socketPath = path.join(dataDir, CONSOLE_SOCKET);
  if (fs.existsSync(socketPath)) {
    if (await answers(socketPath)) {
      broker.logger.warn({ socket: socketPath }, 'another process serves the console of this data directory: this one opens none');
      return undefined;
    }
    fs.rmSync(socketPath, { force: true });
  }
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    // A line that never ends would grow in memory: a peer that sends one is cut off.
    let unterminated = 0;
    socket.on('data', (chunk: Buffer) => {
      const newline = chunk.lastIndexOf(10);
      unterminated = newline === -1 ? unterminated + chunk.length : chunk.length - newline - 1;
      if (unterminated > 4 * MAX_LINE) socket.destroy();
    });
    const lines = readline.createInterface({ input: socket, crlfDelay: Infinity });
    // One line at a time, in order: an answer never overtakes the one before it.
    let queue = Promise.resolve();
    lines.on('line', (raw) => {
      queue = queue.then(async () => {
        let answer: CommandAnswer;
        try {
          const { line } = JSON.parse(raw) as { line?: unknown };
          answer = typeof line === 'string' && line.length <= MAX_LINE ? await runLine(broker, line) : { output: 'a request is {"line": "<command>"} of at most 4096 characters', ok: false };
        } catch {
          answer = { output: 'a request is one JSON document per line: {"line": "<command>"}', ok: false };
        }
        if (!socket.destroyed) socket.write(`${JSON.stringify(answer)}\n`);
      });
    });
  });
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    await listen(server, socketPath);
  } catch (err) {
    // A console is a convenience: a data directory whose path is too long for a socket
    // name (about 100 bytes), say, costs the console, not the installation.
    broker.logger.warn({ err, socket: socketPath }, 'the operators\' console socket could not be opened: npm run repl cannot attach');
    return undefined;
  }
  fs.chmodSync(socketPath, 0o600);
  return {
    path: socketPath,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(socketPath, { force: true });
    },
  };
}

function listen(server: net.Server, socketPath: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // The socket file takes the umask's mode when listen binds it (synchronously, here):
    // none but the owner may connect from the first instant.
    const umask = process.umask(0o177);
    try {
      server.listen(socketPath, () => resolve());
    } finally {
      process.umask(umask);
    }
  });
}
