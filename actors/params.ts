// Parameter schemas shared by actions (fastest-validator). Query strings and form bodies
// arrive as strings, so scalars convert; unknown fields are removed, as Webex ignores them.
export const id = { type: 'string', min: 1, max: 200, trim: true } as const;
export const optionalId = { ...id, optional: true } as const;
export const email = { type: 'email', max: 320, normalize: true } as const;
export const max = (fallback: number, limit = 1000) =>
  ({ type: 'number', integer: true, min: 1, max: limit, convert: true, optional: true, default: fallback }) as const;
export const cursor = { type: 'string', max: 2000, optional: true } as const;
export const text = (limit: number) => ({ type: 'string', max: limit, optional: true }) as const;
/**
 * A boolean, in JSON or as the text of a query string or form body: `true` or `false` and
 * nothing else (not the `1`, `0`, `on` fastest-validator's conversion takes, nor `null`, as
 * Webex refuses them). Webex's boolean filters Squared does not act on (callingData,
 * excludeStatus, current…) are declared with it too, so that a malformed one is a 400 as in
 * Webex rather than dropped unseen.
 */
export const flag = {
  type: 'custom',
  optional: true,
  check(value: unknown, errors: Array<{ type: string; actual: unknown }>) {
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    errors.push({ type: 'boolean', actual: value });
    return value;
  },
} as const;
