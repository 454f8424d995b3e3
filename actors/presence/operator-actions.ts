// What the operators' console (`person <id|email>`, cluster/repl-commands/person-command.ts)
// reads of a person's presence: the status everyone sees, and what it is made of — each
// device's lease (when it lapses, its last activity), the manual status and the meetings.
// Internal and read-only (visibility 'public'): no client route names it.
import type { Context, ServiceSchema } from 'moleculer';
import type { PresenceView } from '../../contracts/live-frames.ts';
import type { DeviceLeaseStore, ManualStatusStore } from '../../storage/presence-store.ts';
import * as p from '../params.ts';
import type { PresenceOwner } from './presence-owner.ts';

export interface OperatorPresence {
  view: PresenceView;
  devices: { deviceId: string; lastActivity: string; expiresAt: string }[];
  manual?: { status: string; expires?: string };
  meetings: string[];
}

export function operatorActions(leases: DeviceLeaseStore, statuses: ManualStatusStore, owner: () => PresenceOwner): NonNullable<ServiceSchema['actions']> {
  return {
    operatorPerson: {
      visibility: 'public',
      params: { personId: p.id },
      async handler(ctx: Context<{ personId: string }>): Promise<OperatorPresence> {
        const { personId } = ctx.params;
        const [read, leased, manual, meetings] = await Promise.all([
          owner().read([personId]), leases.leasesOf([personId]), statuses.statusesOf([personId]), leases.meetingsOf([personId]),
        ]);
        const status = manual.get(personId);
        return {
          view: read.get(personId)!.view,
          devices: (leased.get(personId) ?? []).map((d) => ({ deviceId: d.deviceId, lastActivity: new Date(d.lastActivity).toISOString(), expiresAt: new Date(d.expiresAt).toISOString() })),
          ...(status ? { manual: { status: status.status, ...(status.expires ? { expires: status.expires } : {}) } } : {}),
          meetings: meetings.get(personId) ?? [],
        };
      },
    },
  };
}
