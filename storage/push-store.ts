// The Web Push state of the `notifications` actor: the browsers' push subscriptions of each
// person, and the server's VAPID key pair (RFC 8292), which every node must sign with alike.
export interface PushSubscriptionRecord {
  id: string;
  personId: string;
  /** The push service's URL for this browser (checked against the outbound policy). */
  endpoint: string;
  /** The browser's P-256 public key (base64url, uncompressed point) and auth secret (RFC 8291). */
  keys: { p256dh: string; auth: string };
  /** When the push service says the subscription ends (ms since the epoch), if it does. */
  expirationTime?: number;
  created: string;
}

export interface VapidKeys {
  /** base64url, as web-push generates them. */
  publicKey: string;
  privateKey: string;
}

/**
 * Push subscriptions by id and by person, and the one VAPID key pair. `put` creates or
 * replaces a subscription; `ofPerson` answers a person's subscriptions in id order.
 * `vapidKeys(candidate)` is get-or-create and atomic: the first pair stored wins, and every
 * caller, on any node, at any later time, gets that pair back.
 */
export interface PushStore {
  put(subscription: PushSubscriptionRecord): Promise<void>;
  get(id: string): Promise<PushSubscriptionRecord | undefined>;
  remove(id: string): Promise<void>;
  ofPerson(personId: string): Promise<PushSubscriptionRecord[]>;
  vapidKeys(candidate: VapidKeys): Promise<VapidKeys>;
  close(): Promise<void>;
}
