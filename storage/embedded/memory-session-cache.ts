// SessionCache in this process's memory, for the embedded mode (one process sees every
// change of a person, so the generation check is exact). Bounded: past `maxEntries` the
// oldest entries go first.
import type { SessionCache } from '../interfaces.ts';

interface Entry {
  personId: string;
  value: string;
  expiresAt: number;
}

export class MemorySessionCache implements SessionCache {
  private readonly entries = new Map<string, Entry>();
  private readonly byPerson = new Map<string, Set<string>>();
  private readonly generations = new Map<string, number>();
  private readonly maxEntries: number;

  constructor(options: { maxEntries?: number } = {}) {
    this.maxEntries = options.maxEntries ?? 100_000;
  }

  async get(tokenHash: string): Promise<string | undefined> {
    const entry = this.entries.get(tokenHash);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.remove(tokenHash);
      return undefined;
    }
    return entry.value;
  }

  async generation(personId: string): Promise<number> {
    return this.generations.get(personId) ?? 0;
  }

  async set(tokenHash: string, personId: string, generation: number, value: string, ttlSeconds: number): Promise<void> {
    const ttl = Math.floor(ttlSeconds);
    if ((this.generations.get(personId) ?? 0) !== generation || !(ttl >= 1)) return;
    this.remove(tokenHash);
    this.entries.set(tokenHash, { personId, value, expiresAt: Date.now() + ttl * 1000 });
    let hashes = this.byPerson.get(personId);
    if (!hashes) this.byPerson.set(personId, (hashes = new Set()));
    hashes.add(tokenHash);
    // Maps iterate in insertion order: the first key is the oldest.
    while (this.entries.size > this.maxEntries) this.remove(this.entries.keys().next().value!);
  }

  async dropPerson(personId: string): Promise<void> {
    this.generations.set(personId, (this.generations.get(personId) ?? 0) + 1);
    for (const hash of this.byPerson.get(personId) ?? []) this.entries.delete(hash);
    this.byPerson.delete(personId);
  }

  private remove(tokenHash: string): void {
    const entry = this.entries.get(tokenHash);
    if (!entry) return;
    this.entries.delete(tokenHash);
    const hashes = this.byPerson.get(entry.personId);
    hashes?.delete(tokenHash);
    if (hashes?.size === 0) this.byPerson.delete(entry.personId);
  }
}
