// Who may hear an event, asked of the actors that know: the rooms actor says who is a member
// of the event's room now, the people actor which organization its actor belongs to. A
// creator's webhook hears an event of a room only while the creator is a member (and the
// changes of their own membership, such as their leaving it); an organization's webhook hears
// the events its organization's people cause; an event with an audience reaches, of the
// creators' webhooks, only those people's.
import type { ServiceBroker } from 'moleculer';
import type { ResourceEvent } from '../../contracts/resource-events.ts';
import type { PersonRecord } from '../../storage/records.ts';
import type { WebhookRecord } from '../../storage/webhook-store.ts';

const ORG_CACHE_MS = 60_000;
const ORG_CACHE_SIZE = 10_000;

export class WebhookAudience {
  private readonly broker: ServiceBroker;
  private readonly orgs = new Map<string, { orgId: string | undefined; at: number }>();

  constructor(broker: ServiceBroker) {
    this.broker = broker;
  }

  /** The webhooks among `webhooks` that may hear `event` now. */
  async allowed(webhooks: WebhookRecord[], event: ResourceEvent): Promise<WebhookRecord[]> {
    // An audience narrows the creators' webhooks to those people's; an organization's webhook
    // hears the event by the organization rule, like any other.
    const byCreator = webhooks.filter((w) => w.ownedBy !== 'org' && (!event.audience || event.audience.includes(w.createdBy)));
    const byOrg = webhooks.filter((w) => w.ownedBy === 'org');
    const allowed: WebhookRecord[] = [];
    if (byCreator.length > 0) {
      const own = (w: WebhookRecord) => event.resource === 'memberships' && event.data.personId === w.createdBy;
      const asking = [...new Set(byCreator.filter((w) => !own(w)).map((w) => w.createdBy))];
      const members = event.roomId && asking.length > 0
        ? new Set(await this.broker.call<string[], { roomId: string; personIds: string[] }>('rooms.membersAmong', { roomId: event.roomId, personIds: asking }))
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
    const cached = this.orgs.get(personId);
    if (cached && Date.now() - cached.at < ORG_CACHE_MS) return cached.orgId;
    const person = await this.broker.call<PersonRecord | null, { personId: string }>('people.resolve', { personId });
    this.orgs.delete(personId);
    this.orgs.set(personId, { orgId: person?.orgId, at: Date.now() });
    if (this.orgs.size > ORG_CACHE_SIZE) this.orgs.delete(this.orgs.keys().next().value!);
    return person?.orgId;
  }
}
