// What every actor's presenters share: Webex leaves out a field that has no value, so a
// record as the API shows it never carries `undefined` or `null` (not even a record stored
// before `null` in input was treated as absent).
export function withValues(shown: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(shown).filter(([, value]) => value !== undefined && value !== null));
}
