// Parameter schemas shared by actions (fastest-validator). Query strings and form bodies
// arrive as strings, so scalars convert; unknown fields are removed, as Webex ignores them.
export const id = { type: 'string', min: 1, max: 200, trim: true } as const;
export const optionalId = { ...id, optional: true } as const;
export const email = { type: 'email', max: 320, normalize: true } as const;
export const max = (fallback: number, limit = 1000) =>
  ({ type: 'number', integer: true, min: 1, max: limit, convert: true, optional: true, default: fallback }) as const;
export const cursor = { type: 'string', max: 2000, optional: true } as const;
export const flag = { type: 'boolean', convert: true, optional: true } as const;
export const text = (limit: number) => ({ type: 'string', max: limit, optional: true }) as const;
