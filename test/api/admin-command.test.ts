// The operator command (`npm run admin`, cluster/admin.ts) against a real Squared: it
// creates an administrator, resets a password (the person's tokens stop working, the new
// password works) and revokes tokens, on the embedded store of a data directory (with the
// process stopped: a running embedded process keeps what it checked in memory for up to a
// minute) and on a cluster's engines while the cluster runs. And what the first start writes.
import { cleanEnv, runAdmin, type AdminRun as Run } from '../harness/admin-command.ts';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiClient } from '../../clients/api-client.ts';
import { personWithPassword } from '../harness/people.ts';
import { startSquared, type SquaredProcess } from '../harness/squared-process.ts';
import { startTarget, testMode, type Target } from './target.ts';


let target: Target;
/** Embedded processes started again on the target's data directory: the target does not know them. */
const restarted: SquaredProcess[] = [];
before(async () => {
  target = await startTarget();
});
after(async () => {
  await target.stop();
  for (const proc of restarted) await proc.stop();
});


/**
 * Runs `work` with the command pointed at the target's store: a cluster's engines as its
 * actor nodes use them, or the embedded data directory with its process stopped meanwhile.
 */
async function withOperator(work: (admin: (...args: string[]) => Promise<Run>) => Promise<void>): Promise<void> {
  if (target.mode === 'cluster') return work((...args) => runAdmin(args, { ...cleanEnv(), ...target.cluster!.actors()[0].env }));
  const proc = target.process!;
  await proc.stop();
  try {
    await work((...args) => runAdmin(args, { ...cleanEnv(), SQUARED_DATA_DIR: proc.dataDir }));
  } finally {
    // On a new port: the one the system picked before may be some client's by now.
    const again = await startSquared({ dataDir: proc.dataDir });
    restarted.push(again);
    target.admin.close();
    Object.assign(target, { url: again.url, liveUrl: again.url, process: again, admin: new ApiClient(again.url, again.ca, again.adminToken) });
  }
}

const tokenRequest = (form: Record<string, string>) => target.admin.post('/v1/access_token', undefined, { form, token: null });
const signIn = async (username: string, password: string) => tokenRequest({ grant_type: 'password', username, password });
const me = async (token: string) => (await target.admin.get('/v1/people/me', { token })).status;

describe('npm run admin', () => {
  test('the first start writes admin.json with a token that expires after 24 h, and says where', () => {
    const dataDir = target.mode === 'cluster' ? target.cluster!.dataDir : target.process!.dataDir;
    const credentials = JSON.parse(fs.readFileSync(path.join(dataDir, 'admin.json'), 'utf8'));
    const left = Date.parse(credentials.tokenExpiresAt) - Date.now();
    assert.ok(left > 23 * 3600_000 && left <= 24 * 3600_000, `the token expires in ${(left / 3600_000).toFixed(2)} h`);
    if (target.mode === 'cluster') {
      const writers = target.cluster!.actors().filter((node) => node.adminCredentials);
      assert.deepEqual(writers.map((node) => node.adminCredentials), [path.join(dataDir, 'admin.json')], 'one actor node says it wrote the file');
    } else {
      assert.ok(target.process!.output().includes(`"adminCredentials":${JSON.stringify(path.join(dataDir, 'admin.json'))}`), 'the ready line says where');
    }
  });

  test('create, reset-password and revoke, on the store the processes use', async () => {
    const pat = await personWithPassword(target.admin, 'Pat Operator');
    const ron = await personWithPassword(target.admin, 'Ron Revoked');
    const patSession = (await signIn(pat.email, pat.password)).body;
    const ronSessions = [(await signIn(ron.email, ron.password)).body, (await signIn(ron.email, ron.password)).body];
    const tessa = await personWithPassword(target.admin, 'Tessa Token');
    const tessaSessions = [(await signIn(tessa.email, tessa.password)).body, (await signIn(tessa.email, tessa.password)).body];
    for (const token of [patSession.access_token, ...ronSessions.map((s) => s.access_token)]) assert.equal(await me(token), 200, 'used, so cached');
    const adminOrg = (await target.admin.get('/v1/people/me')).body.orgId;
    const newAdmin = `operator.${Date.now()}@example.com`;
    let created: Run | undefined;
    let reset: Run | undefined;
    await withOperator(async (admin) => {
      created = await admin('create', '--email', newAdmin, '--name', 'Second Administrator');
      assert.equal(created.code, 0, created.stderr);
      const again = await admin('create', '--email', newAdmin);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /exists already/);
      reset = await admin('reset-password', '--email', pat.email.toUpperCase());
      assert.equal(reset.code, 0, reset.stderr);
      assert.equal((await admin('revoke', '--email', ron.email)).code, 0);
      const one = await admin('revoke', '--token', tessaSessions[0].refresh_token);
      assert.equal(one.code, 0, one.stderr);
      assert.equal(one.json.revoked, 'sign-in');
      assert.equal((await admin('revoke', '--email', 'nobody@example.com')).code, 1);
      assert.equal((await admin('frobnicate')).code, 1, 'an unknown command');
    });

    assert.equal(typeof created!.json.password, 'string', 'a generated password is printed');
    const signedIn = await signIn(newAdmin, created!.json.password);
    assert.equal(signedIn.status, 200);
    const asNewAdmin = target.admin.as(signedIn.body.access_token);
    assert.equal((await asNewAdmin.get('/v1/people')).status, 200, 'an administrator may list everyone');
    assert.equal((await asNewAdmin.get('/v1/people/me')).body.orgId, adminOrg, "in the first administrator's organization");

    assert.equal(await me(patSession.access_token), 401, "the reset ended Pat's session");
    assert.equal((await tokenRequest({ grant_type: 'refresh_token', refresh_token: patSession.refresh_token })).status, 400);
    assert.equal((await signIn(pat.email, pat.password)).status, 400, 'the old password is gone');
    assert.equal((await signIn(pat.email, reset!.json.password)).status, 200, 'the new one works');

    for (const session of ronSessions) {
      assert.equal(await me(session.access_token), 401, "revoke --email ended Ron's sessions");
      assert.equal((await tokenRequest({ grant_type: 'refresh_token', refresh_token: session.refresh_token })).status, 400);
    }
    assert.equal((await signIn(ron.email, ron.password)).status, 200, 'Ron may sign in again');
    assert.equal(await me(tessaSessions[0].access_token), 401, 'revoke --token ended that sign-in');
    assert.equal(await me(tessaSessions[1].access_token), 200, 'and only that one');
  });

  test('on an empty data directory, create makes the first administrator: the first start then writes no admin.json and says none', { skip: testMode() === 'cluster' && 'the embedded store of a data directory' }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-admin-'));
    const email = `first.${Date.now()}@example.com`;
    const created = await runAdmin(['create', '--email', email, '--data-dir', dataDir], cleanEnv());
    assert.equal(created.code, 0, created.stderr);
    const squared = await startSquared({ dataDir, expectAdminFile: false });
    try {
      assert.equal(fs.existsSync(path.join(dataDir, 'admin.json')), false);
      assert.doesNotMatch(squared.output(), /adminCredentials/);
      const client = new ApiClient(squared.url, squared.ca);
      try {
        const signedIn = await client.post('/v1/access_token', undefined, { form: { grant_type: 'password', username: email, password: created.json.password }, token: null });
        assert.equal(signedIn.status, 200);
        assert.equal((await client.get('/v1/people', { token: signedIn.body.access_token })).status, 200);
      } finally {
        client.close();
      }
    } finally {
      await squared.stop();
    }
  });
});
