// Minimal flag parsing for the bench scenarios: `--name value` or `--name=value`, each flag
// declared with a default; unknown flags and bad values are errors.
export interface FlagSpec {
  default: string;
  help: string;
  /** Checks and normalizes the value; throws with a message if it is not acceptable. */
  parse?: (value: string) => string;
}

export class UsageError extends Error {}

export function positiveNumber(name: string, { integer = false } = {}) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${value}"`);
    }
    return String(n);
  };
}

export function oneOf(name: string, choices: string[]) {
  return (value: string) => {
    if (!choices.includes(value)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got "${value}"`);
    return value;
  };
}

export function parseFlags(argv: string[], specs: Record<string, FlagSpec>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, spec] of Object.entries(specs)) values[name] = spec.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    let [name, value] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown flag --${name}`);
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
    }
    values[name] = spec.parse ? spec.parse(value) : value;
  }
  return values;
}

export function flagHelp(specs: Record<string, FlagSpec>): string {
  const width = Math.max(...Object.keys(specs).map((n) => n.length)) + 2;
  return Object.entries(specs)
    .map(([name, spec]) => `  --${name.padEnd(width)} ${spec.help} (default: ${spec.default})`)
    .join('\n');
}
