// Asking another actor about many people at once: its action takes at most so many ids per
// call (its params validation refuses more), so a long list is asked in slices, one at a time
// (a 5000-member room costs five calls, not five concurrent loads on the other actor).

/** The most ids `presence.statuses` and `rooms.membersAmong` take in one call. */
export const IDS_PER_CALL = 1000;

/** `ask` of each slice of `items` (at most `size` long), in order, answers concatenated. */
export async function inBatches<T, R>(items: T[], ask: (slice: T[]) => Promise<R[]>, size = IDS_PER_CALL): Promise<R[]> {
  const answers: R[] = [];
  for (let start = 0; start < items.length; start += size) answers.push(...(await ask(items.slice(start, start + size))));
  return answers;
}
