// Reduces the published Webex Messaging OpenAPI spec to what Squared serves.
// Usage: npx node clients/openapi/reduce-spec.ts <source.json> [output.json]
// Kept reproducible so the copy can be refreshed from a newer upstream snapshot.
import { readFileSync, writeFileSync } from 'node:fs';

const DROPPED_PATH_PREFIXES = ['/hds', '/room/linkedFolders'];

const [source, output = new URL('./webex-messaging.openapi.json', import.meta.url).pathname] = process.argv.slice(2);
if (!source) {
  console.error('usage: reduce-spec.ts <source.json> [output.json]');
  process.exit(2);
}

const spec = JSON.parse(readFileSync(source, 'utf8'));

function collectRefs(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) for (const item of node) collectRefs(item, into);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') into.add(value);
      else collectRefs(value, into);
    }
  }
}

function lookup(ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`external $ref not supported: ${ref}`);
  let node: any = spec;
  for (const part of ref.slice(2).split('/')) node = node?.[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  if (node === undefined) throw new Error(`dangling $ref: ${ref}`);
  return node;
}

const droppedPaths = Object.keys(spec.paths).filter((p) => DROPPED_PATH_PREFIXES.some((prefix) => p.startsWith(prefix)));
for (const p of droppedPaths) delete spec.paths[p];

// Only schemas are pruned; other component kinds stay, so they count as roots too
// (otherwise a kept component could be left pointing at a dropped schema).
const { schemas = {}, ...otherComponents } = spec.components ?? {};
const reachable = new Set<string>();
const pending = new Set<string>();
collectRefs(spec.paths, pending);
collectRefs(otherComponents, pending);
while (pending.size > 0) {
  const [ref] = pending;
  pending.delete(ref);
  if (reachable.has(ref)) continue;
  reachable.add(ref);
  const found = new Set<string>();
  collectRefs(lookup(ref), found);
  for (const r of found) if (!reachable.has(r)) pending.add(r);
}

const before = Object.keys(schemas).length;
for (const name of Object.keys(schemas)) {
  if (!reachable.has(`#/components/schemas/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`)) delete schemas[name];
}
if (spec.components) spec.components.schemas = schemas;

const text = JSON.stringify(spec);
writeFileSync(output, text + '\n');
console.log(
  `dropped ${droppedPaths.length} paths (${droppedPaths.join(', ')}); ` +
    `kept ${Object.keys(spec.paths).length} paths, ${Object.keys(schemas).length}/${before} schemas; ` +
    `wrote ${Buffer.byteLength(text) + 1} bytes to ${output}`,
);
