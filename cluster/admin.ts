// `npm run admin -- <command>`: the operator's way in, without a first-start file. It works
// on the people store of the configuration `npm start` reads (SQUARED_DATA_DIR, or the
// engines in SQUARED_CASSANDRA / SQUARED_REDIS), or with --cluster on the engines of
// `npm run cluster`, through the people actor's own account and token code.
//
//   create          --email E [--name N] [--org-of E2 | --new-org] [--password-stdin]   a new administrator (of a new organization with --new-org)
//   reset-password  --email E [--password-stdin]   a new password; every token of E stops working
//   revoke          --email E | --token T          every token of E, or one token (a refresh token with its sign-in)
//
// A password not read from stdin is generated. The result is one JSON line on stdout.
import { parseArgs } from 'node:util';
import { readConfig } from '../contracts/config.ts';
import { createAdministrator, newPassword, OperatorError, resetPassword, revokeTokens } from '../actors/people/administrators.ts';
import { passwordThrottle } from '../actors/people/password-throttle.ts';
import { tokenKeeper } from '../actors/people/token-keeper.ts';
import { localEngineEnv } from './local-cluster.ts';
import { wirePeople } from './wiring.ts';

const USAGE = `usage: npm run admin -- create --email E [--name N] [--org-of E2 | --new-org] [--password-stdin]
       npm run admin -- reset-password --email E [--password-stdin]
       npm run admin -- revoke --email E | --token T
options: --data-dir D (embedded: the data directory, default ./data)  --cluster (the engines of npm run cluster)`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    email: { type: 'string' },
    name: { type: 'string' },
    'org-of': { type: 'string' },
    'new-org': { type: 'boolean', default: false },
    token: { type: 'string' },
    'password-stdin': { type: 'boolean', default: false },
    'data-dir': { type: 'string' },
    cluster: { type: 'boolean', default: false },
  },
});

const fail = (message: string): never => {
  process.stderr.write(`${message}\n`);
  process.exit(1);
};

async function readPassword(): Promise<string> {
  if (!values['password-stdin']) return newPassword();
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (password.length < 8 || password.length > 256) fail('The password must have 8 to 256 characters.');
  return password;
}

const command = positionals[0];
if (!['create', 'reset-password', 'revoke'].includes(command ?? '')) fail(USAGE);
if (command !== 'revoke' && !values.email) fail(USAGE);
if (command === 'revoke' && !values.email === !values.token) fail(USAGE);

const env = { ...(values.cluster ? localEngineEnv() : {}), ...process.env, ...(values['data-dir'] ? { SQUARED_DATA_DIR: values['data-dir'] } : {}) };
if (values.cluster && !values['data-dir'] && !process.env.SQUARED_DATA_DIR) env.SQUARED_DATA_DIR = 'data/cluster';
const config = readConfig(env);
// Only failures are worth saying; the result goes to stdout.
const logger = {
  info: () => undefined, debug: () => undefined, trace: () => undefined,
  warn: (obj: object, msg?: string) => process.stderr.write(`warning: ${msg ?? ''} ${JSON.stringify(obj)}\n`),
  error: (obj: object, msg?: string) => process.stderr.write(`error: ${msg ?? ''} ${JSON.stringify(obj)}\n`),
  fatal: (obj: object, msg?: string) => process.stderr.write(`fatal: ${msg ?? ''} ${JSON.stringify(obj)}\n`),
};

const wired = await wirePeople(config, logger as never);
const deps = { store: wired.people, tokens: tokenKeeper(wired.people, wired.sessions), passwords: passwordThrottle(wired.attempts, config.passwordAttempts) };
try {
  let result: object;
  if (command === 'create') {
    const password = await readPassword();
    const admin = await createAdministrator(deps, { email: values.email!, displayName: values.name, password, orgOf: values['org-of'], newOrg: values['new-org'], fallbackAdminEmail: config.adminEmail });
    result = { created: admin.id, email: admin.emails[0], orgId: admin.orgId, ...(values['password-stdin'] ? {} : { password }) };
  } else if (command === 'reset-password') {
    const password = await readPassword();
    const person = await resetPassword(deps, { email: values.email!, password });
    result = { reset: person.id, email: person.emails[0], tokensRevoked: true, ...(values['password-stdin'] ? {} : { password }) };
  } else {
    const revoked = await revokeTokens(deps, values.email ? { email: values.email } : { token: values.token! });
    result = revoked ?? { revoked: 'nothing', reason: 'no such token' };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (err) {
  process.exitCode = 1;
  process.stderr.write(`${err instanceof OperatorError ? err.message : `failed: ${(err as Error).message}`}\n`);
} finally {
  await wired.close();
}
