// Who may hear an event, asked of the actors that know: the rooms actor says who is a member
// of the event's room now, the people actor which organization its actor belongs to and
// whether an organization webhook's creator is still an administrator. A creator's webhook
// hears an event of a room only while the creator is a member (and the changes of their own
// membership, such as their leaving it); an organization's webhook hears the events its
// organization's people cause while its creator is an administrator of that organization —
// once they are not, it is treated as the creator's own webhook; an event with an audience
// reaches, of the creators' webhooks, only those people's.
import type { ServiceBroker } from 'moleculer';
import { ADMIN_ROLE } from '../../contracts/caller.ts';
import type { ResourceEvent } from '../../contracts/resource-events.ts';
import type { PersonRecord } from '../../storage/records.ts';
import type { WebhookRecord } from '../../storage/webhook-store.ts';
import { inBatches } from './in-batches.ts';

/** How stale a person's organization and roles may be: a revoked administrator's org-wide reach ends within this. */
const PERSON_CACHE_MS = 5_000;
const PERSON_CACHE_SIZE = 10_000;

export class WebhookAudience {
  private readonly broker: ServiceBroker;
  private readonly people = new Map<string, { person: PersonRecord | null; at: number }>();

  constructor(broker: ServiceBroker) {
    this.broker = broker;
  }

  /** The webhooks among `webhooks` that may hear `event` now. */
  async allowed(webhooks: WebhookRecord[], event: ResourceEvent): Promise<WebhookRecord[]> {
    // An organization's webhook hears the event by the organization rule while its creator is
    // an administrator of it (asked now); else it is its creator's, and an audience narrows
    // the creators' webhooks to those people's.
    const byOrg: WebhookRecord[] = [];
    for (const w of webhooks) if (w.ownedBy === 'org' && (await this.isAdminOf(w.createdBy, w.orgId))) byOrg.push(w);
    const byCreator = webhooks.filter((w) => !byOrg.includes(w) && (!event.audience || event.audience.includes(w.createdBy)));
    const allowed: WebhookRecord[] = [];
    if (byCreator.length > 0) {
      const own = (w: WebhookRecord) => event.resource === 'memberships' && event.data.personId === w.createdBy;
      const asking = [...new Set(byCreator.filter((w) => !own(w)).map((w) => w.createdBy))];
      const members = event.roomId && asking.length > 0
        ? new Set(await inBatches(asking, (personIds) => this.broker.call<string[], { roomId: string; personIds: string[] }>('rooms.membersAmong', { roomId: event.roomId!, personIds })))
        : new Set<string>();
      for (const w of byCreator) {
        if (own(w) || members.has(w.createdBy) || (!event.roomId && (event.audience?.includes(w.createdBy) || event.actorId === w.createdBy))) allowed.push(w);
      }
    }
    if (byOrg.length > 0) {
      const orgId = await this.orgOf(event.actorId);
      for (const w of byOrg) if (orgId !== undefined && w.orgId === orgId) allowed.push(w);
    }
    return allowed;
  }

  private async orgOf(personId: string): Promise<string | undefined> {
    return (await this.person(personId))?.orgId;
  }

  private async isAdminOf(personId: string, orgId: string): Promise<boolean> {
    const person = await this.person(personId);
    return person !== null && person.orgId === orgId && person.roles.includes(ADMIN_ROLE);
  }

  private async person(personId: string): Promise<PersonRecord | null> {
    const cached = this.people.get(personId);
    if (cached && Date.now() - cached.at < PERSON_CACHE_MS) return cached.person;
    const person = await this.broker.call<PersonRecord | null, { personId: string }>('people.resolve', { personId });
    this.people.delete(personId);
    this.people.set(personId, { person, at: Date.now() });
    if (this.people.size > PERSON_CACHE_SIZE) this.people.delete(this.people.keys().next().value!);
    return person;
  }
}
