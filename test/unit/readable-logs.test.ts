// `npm start` on a terminal prints lines a person reads (pino-pretty), and JSON, one object
// per line, when its stdout is a pipe or a file (tests, `npm run cluster`, log shippers).
// The terminal is a real pseudo-terminal: `script` from util-linux runs `npm start` in one.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Runs `npm start` (through `script` for a terminal) until its ready line, and answers what it printed. */
async function startAndStop(terminal: boolean): Promise<string> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-logs-'));
  const env = { ...process.env, SQUARED_DATA_DIR: dataDir, SQUARED_PORT: '0', SQUARED_LOG_LEVEL: 'info' };
  const child = terminal
    ? spawn('script', ['-qfec', 'npm start', '/dev/null'], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    : spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start did not get ready:\n${output}`)), 60_000);
      const check = setInterval(() => {
        // The logger's lines go through pino-pretty's worker: wait for the gateway's too.
        if (/SQUARED_READY/.test(output) && /gateway listening/.test(output)) {
          clearTimeout(timer);
          clearInterval(check);
          resolve();
        }
      }, 100);
      child.once('exit', () => reject(new Error(`npm start exited:\n${output}`)));
    });
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
  return output.replace(/\r/g, '').replace(/\x1b\[\d+m/g, '');
}

test('npm start prints readable lines on a terminal and JSON lines through a pipe', { timeout: 150_000 }, async () => {
  const onTerminal = (await startAndStop(true)).split('\n').filter((line) => /gateway listening/.test(line));
  assert.equal(onTerminal.length, 1, 'the gateway said where it listens');
  assert.doesNotMatch(onTerminal[0], /^\s*\{/, `a readable line, not JSON: ${onTerminal[0]}`);
  assert.match(onTerminal[0], /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO.*gateway listening/, `time, level, message: ${onTerminal[0]}`);

  const throughPipe = (await startAndStop(false)).split('\n').filter((line) => /gateway listening/.test(line));
  assert.equal(throughPipe.length, 1);
  const parsed = JSON.parse(throughPipe[0]);
  assert.equal(parsed.msg, 'gateway listening');
  assert.equal(parsed.level, 30);
});
