// `status` and `lastActivity` on people as REST shows them (Webex's Person), from the presence
// actor. Only people of the caller's organization are ever shown (Webex omits both for
// others; the people actions answer no one else). Presence is no reason to fail a read of
// people: when the presence actor cannot answer in time, they are shown without it.
import type { Context } from 'moleculer';
import type { PresenceView } from '../../contracts/live-frames.ts';

const PRESENCE_TIMEOUT_MS = 2000;

export async function withPresence(ctx: Context, shown: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
  if (shown.length === 0) return shown;
  let statuses: Record<string, PresenceView>;
  try {
    statuses = await ctx.call<Record<string, PresenceView>, { personIds: string[] }>('presence.statuses', { personIds: shown.map((person) => String(person.id)) }, { timeout: PRESENCE_TIMEOUT_MS });
  } catch (err) {
    ctx.service?.logger.warn({ err }, 'people shown without their presence: the presence actor did not answer');
    return shown;
  }
  return shown.map((person) => ({ ...person, ...statuses[String(person.id)] }));
}
