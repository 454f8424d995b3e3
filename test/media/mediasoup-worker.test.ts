// Squared builds the mediasoup worker against Debian's libraries with its own patches
// (media/worker-build), so the worker behaviour the media plane depends on is checked
// here: codecs, WebRTC and plain transports, RTP in from ffmpeg, SRTP in all suites, and
// a real ICE + DTLS handshake (the path patch 0004 fixes).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '../..');

test('the locally built mediasoup worker passes the smoke check', () => {
  const run = spawnSync(process.execPath, [path.join(ROOT, 'media/worker-build/smoke.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(run.status, 0, `smoke check failed:\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout + run.stderr, /SMOKE OK/);
  assert.match(run.stdout + run.stderr, /dtls connected/);
});
