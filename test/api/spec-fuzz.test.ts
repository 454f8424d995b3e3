// The spec fuzzer: Schemathesis runs every operation Squared serves of the Webex Messaging
// spec and of the meetings subset (clients/openapi/) against a real Squared, in both modes:
// examples, coverage, fuzzing and the stateful phase (creates linked to the reads, updates
// and deletes of what they made, see spec-fuzz/overlay.ts). It passes with no server error,
// no response outside the spec and no schema-violating request accepted or valid one refused,
// except the deviations listed in spec-fuzz/schemathesis.toml. The seed is fixed; the budget
// is small by default and larger on demand (README, Tests):
//   SQUARED_SPEC_FUZZ_MAX_EXAMPLES  examples per operation and phase (default 8)
//   SQUARED_SPEC_FUZZ_MAX_TIME      seconds per spec, on top of the examples (default: none)
//   SQUARED_SPEC_FUZZ_SEED          another seed (default: the config's)
//   SQUARED_SPEC_FUZZ_PHASES        the phases (default: all four; in cluster mode all but
//                                   coverage, whose every-boundary-value cases test only
//                                   parameter validation, the same code in both modes, and
//                                   would take two minutes of the cluster's round trips)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { installedSchemathesis, SCHEMATHESIS_VERSION, schemathesisPath } from '../harness/schemathesis.ts';
import { fuzzedSpec } from './spec-fuzz/overlay.ts';
import { startTarget, testMode, type Target } from './target.ts';

const OPENAPI = path.resolve(import.meta.dirname, '../../clients/openapi');
const CONFIG = path.resolve(import.meta.dirname, 'spec-fuzz/schemathesis.toml');
const SPECS = ['webex-messaging.openapi.json', 'webex-meetings-subset.openapi.json'];
const maxExamples = Number(process.env.SQUARED_SPEC_FUZZ_MAX_EXAMPLES ?? 8);
const maxTime = process.env.SQUARED_SPEC_FUZZ_MAX_TIME;
const phases = process.env.SQUARED_SPEC_FUZZ_PHASES ?? (testMode() === 'cluster' ? 'examples,fuzzing,stateful' : 'examples,coverage,fuzzing,stateful');
/** A spec's run may take this long before it is killed (a larger budget gets more). */
const deadlineMs = maxTime ? (Number(maxTime) + 120) * 1000 : 150_000 + maxExamples * 5_000;

const installed = installedSchemathesis();
const missing = installed === SCHEMATHESIS_VERSION ? undefined
  : `Schemathesis ${SCHEMATHESIS_VERSION} is not at ${schemathesisPath()} (${installed ? `found ${installed}` : 'not installed'}): `
    + 'npm test installs it (test/run.ts), or set SQUARED_SCHEMATHESIS to the st of such an install';

interface Run {
  status: number | null;
  output: string;
}

/** Runs `st` in `cwd` (where it keeps its cache, .schemathesis/: a temporary directory). */
function schemathesis(args: string[], cwd: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(schemathesisPath(), args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      output += `\n[killed: still running after ${deadlineMs / 1000} s]`;
      child.kill('SIGKILL');
    }, deadlineMs);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

/** The failures and summary of a run: what a reader needs, without the progress lines. */
const report = (output: string) => output.slice(Math.max(0, output.indexOf('=== FAILURES') - 40)) || output;

/**
 * The failures in one line (the failure reporter keeps an error's first lines only, and the
 * end of a CI log is often all that is kept): each check that failed and on what operations.
 */
function failureLine(output: string): string {
  const start = output.indexOf('=== FAILURES');
  if (start < 0) return output.trim().split('\n').slice(-3).join(' / ');
  const end = output.indexOf('=== WARNINGS', start);
  const section = output.slice(start, end < 0 ? undefined : end);
  return section.split('\n').map((line) => line.trim())
    .filter((line) => /^(- |Created with|Not available with|\[\d{3}\]|_{3,})/.test(line))
    .map((line) => line.replace(/^_+\s*|\s*_+$/g, ''))
    .join(' / ').slice(0, 900);
}

if (missing) {
  if (process.env.CI) test('spec fuzz', () => assert.fail(`CI is set but ${missing}. A missing fuzzer in CI is a failure, not a skip.`));
  else test('spec fuzz', { skip: missing }, () => {});
} else {
  describe(`spec fuzz (Schemathesis ${SCHEMATHESIS_VERSION})`, { concurrency: SPECS.length }, () => {
    let target: Target;
    let workDir: string;
    before(async () => {
      // The fuzzer sends thousands of requests as one person: no rate limit may answer them.
      target = await startTarget({ SQUARED_RATE_BURST: '10000000', SQUARED_RATE_PER_SECOND: '10000000' });
      workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-spec-fuzz-'));
      fs.writeFileSync(path.join(workDir, 'ca.pem'), target.ca);
    });
    after(async () => {
      await target?.stop();
      if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    // The two specs share nothing but the administrator: they run side by side (the target
    // mostly waits on its stores, in cluster mode on the network).
    for (const name of SPECS) {
      test(`${name}: no server error, no response outside the spec, no request misjudged`, { timeout: deadlineMs + 30_000 }, async (t) => {
        const specFile = path.join(workDir, name);
        fs.writeFileSync(specFile, JSON.stringify(fuzzedSpec(JSON.parse(fs.readFileSync(path.join(OPENAPI, name), 'utf8')))));
        const args = [
          '--config-file', CONFIG, 'run', specFile,
          '--url', `${target.url}/v1`,
          '--tls-verify', path.join(workDir, 'ca.pem'),
          '--max-examples', String(maxExamples), '--phases', phases,
          '--no-color', '--output-truncate', 'false',
          // One worker: with two, one scenario deletes what another just made (found by listing)
          // and the second reads a true 404 as "created resource not found".
          '--workers', '1',
          ...(maxTime ? ['--max-time', maxTime] : []),
          ...(process.env.SQUARED_SPEC_FUZZ_SEED ? ['--seed', process.env.SQUARED_SPEC_FUZZ_SEED] : []),
        ];
        // The token goes through the environment (the config's headers), not argv, where `ps` shows it.
        const run = await schemathesis(args, workDir, { SQUARED_FUZZ_TOKEN: target.admin.token! });
        for (const line of run.output.split('\n')) if (/\(in [\d.]+s\)|Scenarios:|API Links:|generated,|={3,} .* in [\d.]+s/.test(line)) t.diagnostic(line.trim());
        assert.equal(run.status, 0, `Schemathesis found problems in ${name} (${target.mode} mode): ${failureLine(run.output)}\n${report(run.output)}`);
      });
    }
  });
}
