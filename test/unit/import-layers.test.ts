// The floors of the tree, checked: every relative import of every TypeScript file must go
// to its own part or to a part its floor may use. An import that runs upward (storage
// reaching into an actor, the gateway into a media node's code, bench into the tests) fails
// here, naming the file, the line and the rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * What each part may import besides itself, bottom floor first. `storage` means the storage
 * interfaces and records (files directly in storage/); its adapters (storage/<engine>/) are
 * chosen once, at wiring, and only the entry points and the tests name them.
 */
const MAY_IMPORT: Record<string, string[]> = {
  contracts: [],
  storage: ['contracts'],
  'storage-adapters': ['contracts', 'storage'],
  routing: ['contracts', 'storage'],
  media: ['contracts'],
  actors: ['contracts', 'storage', 'routing'],
  gateway: ['contracts', 'storage', 'routing'],
  clients: ['contracts'],
  'moleculer.config.ts': ['contracts', 'routing'],
  cluster: ['contracts', 'storage', 'storage-adapters', 'routing', 'media', 'actors', 'gateway', 'clients', 'moleculer.config.ts'],
  'squared.ts': ['contracts', 'storage', 'storage-adapters', 'routing', 'media', 'actors', 'gateway', 'cluster', 'moleculer.config.ts'],
  bench: ['contracts', 'storage', 'storage-adapters', 'routing', 'media', 'actors', 'gateway', 'clients', 'cluster', 'moleculer.config.ts'],
  test: ['contracts', 'storage', 'storage-adapters', 'routing', 'media', 'actors', 'gateway', 'clients', 'cluster', 'moleculer.config.ts', 'squared.ts', 'bench'],
};

/** The part a file belongs to (a repo-relative path with forward slashes). */
export function partOf(file: string): string {
  const [top, second] = file.split('/');
  if (top === 'storage') return second && file.split('/').length > 2 ? 'storage-adapters' : 'storage';
  return top;
}

/**
 * Actors talk through Moleculer actions only: a file of one actor (actors/<name>/…) may use
 * the helpers at the top of actors/, never another actor's files.
 */
function crossesActors(from: string, to: string): boolean {
  const [fromTop, fromActor, fromRest] = from.split('/');
  const [toTop, toActor, toRest] = to.split('/');
  return fromTop === 'actors' && toTop === 'actors' && fromRest !== undefined && toRest !== undefined && fromActor !== toActor;
}

/** Likewise the storage adapters: one engine's adapter never reaches into another's. */
function crossesAdapters(from: string, to: string): boolean {
  return partOf(from) === 'storage-adapters' && partOf(to) === 'storage-adapters' && from.split('/')[1] !== to.split('/')[1];
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"](\.{1,2}\/[^'"]+)['"]/g;

export function relativeImports(source: string): { specifier: string; line: number }[] {
  const found: { specifier: string; line: number }[] = [];
  for (const match of source.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2] ?? match[3];
    const at = match.index + match[0].indexOf(specifier);
    found.push({ specifier, line: source.slice(0, at).split('\n').length });
  }
  return found;
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(full, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

export function violations(root: string): string[] {
  const problems: string[] = [];
  for (const full of sourceFiles(root)) {
    const from = path.relative(root, full).split(path.sep).join('/');
    const fromPart = partOf(from);
    const allowed = MAY_IMPORT[fromPart];
    if (!allowed) {
      problems.push(`${from}: in no part of the tree (add its folder to MAY_IMPORT in test/unit/import-layers.test.ts)`);
      continue;
    }
    for (const { specifier, line } of relativeImports(fs.readFileSync(full, 'utf8'))) {
      const to = path.relative(root, path.resolve(path.dirname(full), specifier)).split(path.sep).join('/');
      const toPart = partOf(to);
      const where = `${from}:${line} imports ${to}`;
      if (to.startsWith('..')) problems.push(`${where}: outside the repository`);
      else if (toPart !== fromPart && !allowed.includes(toPart)) problems.push(`${where}: ${fromPart} may not import ${toPart}`);
      else if (crossesActors(from, to)) problems.push(`${where}: one actor's code may not import another's (call its actions)`);
      else if (crossesAdapters(from, to)) problems.push(`${where}: one engine's adapter may not import another's`);
    }
  }
  return problems;
}

test('the import checker sees every form of import', () => {
  const found = relativeImports([
    "import a from './a.ts';",
    "import type { B } from '../b.ts';",
    "export { c } from './c.ts';",
    "import {\n  d,\n  e,\n} from './d.ts';",
    "const f = await import('./f.ts');",
    "import './g.ts';",
    "import fs from 'node:fs';",
  ].join('\n'));
  assert.deepEqual(found.map((f) => f.specifier), ['./a.ts', '../b.ts', './c.ts', './d.ts', './f.ts', './g.ts']);
  assert.equal(found[3].line, 7);
});

test('the import checker refuses upward and sideways imports', () => {
  const root = fs.mkdtempSync(path.join(fs.mkdtempSync('/tmp/layers-'), 'repo-'));
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  };
  write('contracts/errors.ts', "export const x = 1;\n");
  write('storage/interfaces.ts', "import { x } from '../contracts/errors.ts';\n");
  write('storage/embedded/room-store.ts', "import { y } from '../../actors/errors.ts';\nimport { z } from '../cassandra/db.ts';\n");
  write('storage/cassandra/db.ts', "export const z = 1;\n");
  write('actors/rooms/room-log.ts', "import { p } from '../people/passwords.ts';\nimport { q } from '../keyed-queue.ts';\nimport { r } from '../../storage/embedded/room-store.ts';\n");
  write('bench/run.ts', "import { c } from '../test/harness/wait.ts';\n");
  try {
    const found = violations(root).sort();
    assert.deepEqual(found, [
      'actors/rooms/room-log.ts:1 imports actors/people/passwords.ts: one actor\'s code may not import another\'s (call its actions)',
      'actors/rooms/room-log.ts:3 imports storage/embedded/room-store.ts: actors may not import storage-adapters',
      'bench/run.ts:1 imports test/harness/wait.ts: bench may not import test',
      'storage/embedded/room-store.ts:1 imports actors/errors.ts: storage-adapters may not import actors',
      'storage/embedded/room-store.ts:2 imports storage/cassandra/db.ts: one engine\'s adapter may not import another\'s',
    ]);
  } finally {
    fs.rmSync(path.dirname(root), { recursive: true, force: true });
  }
});

test('no import in the tree runs upward', () => {
  assert.deepEqual(violations(ROOT), []);
});
