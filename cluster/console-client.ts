// The terminal end of an embedded installation's console (`npm run repl` without
// SQUARED_NATS): reads lines from stdin, sends each to the process's console socket
// (console-socket.ts) and prints the answers, in order. Ends with its input (or `quit`),
// or when the process closes the socket (it stopped, or was drained). Given a command line
// (`npm run repl -- reindex`), it runs just that one and exits 1 if it failed.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { CONSOLE_SOCKET } from './console-socket.ts';

/** Runs the console until it ends (or the one command `oneShot`); answers the exit code. */
export async function attachToEmbedded(dataDir: string, oneShot?: string): Promise<number> {
  const socketPath = path.join(dataDir, CONSOLE_SOCKET);
  if (!fs.existsSync(socketPath)) {
    process.stderr.write(`no running Squared serves ${dataDir} (no ${socketPath}): start it with \`npm start\` (SQUARED_DATA_DIR), `
      + 'or set SQUARED_NATS (e.g. nats://127.0.0.1:4222) to join a cluster.\n');
    return 1;
  }
  const socket = net.connect(socketPath);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
  } catch (err) {
    process.stderr.write(`cannot open the console at ${socketPath}: ${(err as Error).message}\n`);
    return 1;
  }
  if (oneShot !== undefined) return runOne(socket, oneShot);
  const interactive = process.stdin.isTTY === true;
  const input = readline.createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, prompt: 'squared $ ' });
  const answers = readline.createInterface({ input: socket, crlfDelay: Infinity });
  let pending = 0;
  let inputEnded = false;
  return new Promise<number>((resolve) => {
    const finish = (code: number) => {
      input.close();
      socket.destroy();
      resolve(code);
    };
    const settle = () => {
      if (inputEnded && pending === 0) finish(0);
      else if (interactive && pending === 0) input.prompt();
    };
    answers.on('line', (raw) => {
      pending--;
      process.stdout.write(`${(JSON.parse(raw) as { output: string }).output}\n`);
      settle();
    });
    socket.once('close', () => {
      if (!inputEnded || pending > 0) process.stdout.write('Squared closed the console (it stopped, or is draining).\n');
      finish(0);
    });
    input.on('line', (line) => {
      if (/^\s*(quit|exit)\s*$/.test(line)) {
        inputEnded = true;
        settle();
        return;
      }
      if (!line.trim()) return settle();
      pending++;
      socket.write(`${JSON.stringify({ line })}\n`);
    });
    input.once('close', () => {
      inputEnded = true;
      settle();
    });
    if (interactive) {
      process.stdout.write('Squared console (embedded). `help` lists the commands, `quit` leaves.\n');
      input.prompt();
    }
  });
}

/** Sends one command line and prints its answer: exit code 0 if it did what was asked. */
function runOne(socket: net.Socket, line: string): Promise<number> {
  const answers = readline.createInterface({ input: socket, crlfDelay: Infinity });
  return new Promise<number>((resolve) => {
    answers.once('line', (raw) => {
      const { output, ok } = JSON.parse(raw) as { output: string; ok: boolean };
      process.stdout.write(`${output}\n`);
      socket.destroy();
      resolve(ok ? 0 : 1);
    });
    socket.once('close', () => {
      process.stderr.write('Squared closed the console before answering (it stopped, or is draining).\n');
      resolve(1);
    });
    socket.write(`${JSON.stringify({ line })}\n`);
  });
}
