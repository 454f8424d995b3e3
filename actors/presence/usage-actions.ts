// What the org usage figures need of presence (docs/admin.md): how many of some people were
// active within 1, 7 and 30 days (their last activity, kept LAST_ACTIVITY_KEEP_MS), and how
// many live sockets they hold now (their unexpired device leases). Internal: counts only.
import type { Context, ServiceSchema } from 'moleculer';
import { USAGE_MAX_PEOPLE } from '../../contracts/org-usage.ts';
import type { DeviceLeaseStore } from '../../storage/presence-store.ts';
import * as p from '../params.ts';

const DAY = 24 * 3600 * 1000;

export function usageActions(leases: DeviceLeaseStore): NonNullable<ServiceSchema['actions']> {
  return {
    usageOf: {
      visibility: 'public',
      params: { personIds: { type: 'array', items: p.id, max: USAGE_MAX_PEOPLE } },
      async handler(ctx: Context<{ personIds: string[] }>) {
        const { personIds } = ctx.params;
        const [leased, last] = await Promise.all([leases.leasesOf(personIds), leases.lastActivityOf(personIds)]);
        const now = Date.now();
        const counts = { activeDay: 0, activeWeek: 0, activeMonth: 0, liveSockets: 0, peopleOnline: 0 };
        for (const personId of personIds) {
          const devices = leased.get(personId) ?? [];
          const latest = Math.max(last.get(personId) ?? 0, ...devices.map((d) => d.lastActivity));
          if (latest > now - DAY) counts.activeDay += 1;
          if (latest > now - 7 * DAY) counts.activeWeek += 1;
          if (latest > now - 30 * DAY) counts.activeMonth += 1;
          counts.liveSockets += devices.length;
          if (devices.length > 0) counts.peopleOnline += 1;
        }
        return counts;
      },
    },
  };
}
