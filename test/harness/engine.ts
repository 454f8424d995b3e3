// Engine-backed test files read the engine's address from the environment. Without it they
// skip, except in CI, where a missing engine is a failure, never a skip.
import assert from 'node:assert/strict';
import { test } from 'node:test';

/**
 * The value of `variable`, or undefined after registering a test named `title` that
 * skips (or, in CI, fails) and says how to provide it, e.g. `SQUARED_REDIS=redis://…`.
 */
export function engineAddress(title: string, variable: string, example: string, engine: string): string | undefined {
  const value = process.env[variable];
  if (value) return value;
  const how = `start it (bash cluster/engines/up.sh ${engine}) and set ${variable}=${example}`;
  if (process.env.CI) test(title, () => assert.fail(`CI is set but ${variable} is not: ${how}. A missing engine in CI is a failure, not a skip.`));
  else test(title, { skip: `${variable} is not set: ${how}` }, () => {});
  return undefined;
}
