// The embedded mode's token buckets against the RateLimitStore conformance suite.
import { MemoryRateLimitStore } from '../../storage/embedded/memory-rate-limits.ts';
import { rateLimitConformance } from '../storage/rate-limit.conformance.ts';

rateLimitConformance('memory', () => {
  const store = new MemoryRateLimitStore();
  return { store, peer: store };
});
