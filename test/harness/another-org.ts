// A second organization for a test: Squared makes organizations only through the operator
// command (`npm run admin -- create --new-org`, cluster/admin.ts), so this runs it on the
// target's store — a cluster's engines while it runs, or an embedded data directory with its
// process stopped for the while (then started again, on a new port, and `target` follows it).
import { cleanEnv, runAdmin } from './admin-command.ts';
import { ApiClient } from '../../clients/api-client.ts';
import { startSquared } from './squared-process.ts';
import type { Target } from '../api/target.ts';

/** The administrator of a new organization, signed in: their client, id and org. */
export async function anotherOrgAdministrator(target: Target): Promise<{ api: ApiClient; id: string; orgId: string }> {
  const email = `other.admin.${Date.now()}.${Math.random().toString(36).slice(2, 8)}@example.com`;
  let run;
  if (target.mode === 'cluster') {
    run = await runAdmin(['create', '--email', email, '--new-org'], { ...cleanEnv(), ...target.cluster!.actors()[0].env });
  } else {
    const proc = target.process!;
    await proc.stop();
    try {
      run = await runAdmin(['create', '--email', email, '--new-org'], { ...cleanEnv(), SQUARED_DATA_DIR: proc.dataDir });
    } finally {
      const again = await startSquared({ dataDir: proc.dataDir });
      target.admin.close();
      Object.assign(target, {
        url: again.url, liveUrl: again.url, process: again, admin: new ApiClient(again.url, again.ca, again.adminToken),
        stop: async () => {
          target.admin.close();
          await again.stop();
        },
      });
    }
  }
  if (run.code !== 0) throw new Error(`npm run admin -- create --new-org failed: ${run.stderr}`);
  const created = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { created: string; orgId: string; password: string };
  const token = await target.admin.post('/v1/access_token', undefined, { form: { grant_type: 'password', username: email, password: created.password }, token: null });
  if (token.status !== 200) throw new Error(`could not sign in the other org's administrator: ${token.status} ${token.text}`);
  return { api: target.admin.as(token.body.access_token), id: created.created, orgId: created.orgId };
}
