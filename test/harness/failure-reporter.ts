// A node:test reporter that writes one line per failed test (its file, its name and the
// first line of its error) and nothing else. `test/run.ts` runs it beside the usual
// reporter and prints what it wrote at the very end of `npm test`, so that the tail of a
// long CI log (often all that is kept) still says which tests failed and why.
import path from 'node:path';

interface FailEvent {
  name: string;
  nesting: number;
  file?: string;
  /** A test marked TODO fails without failing its pass: it is a known defect, reported apart. */
  todo?: string | boolean;
  details: { error?: { message?: string; cause?: { message?: string } }; type?: string };
}

export default async function* failureReporter(source: AsyncIterable<{ type: string; data: unknown }>): AsyncGenerator<string> {
  for await (const event of source) {
    if (event.type !== 'test:fail') continue;
    const fail = event.data as FailEvent;
    // A suite fails when a test in it does: its own line would say nothing new.
    if (fail.details.type === 'suite') continue;
    if (fail.todo !== undefined && fail.todo !== false) {
      yield `(known defect, TODO, does not fail the pass) ${fail.file ? path.relative(process.cwd(), fail.file) : '?'}: ${fail.name}\n`;
      continue;
    }
    const error = fail.details.error;
    // An assertion's first line says only what kind it is; the next ones say what differed.
    const why = (error?.cause?.message ?? error?.message ?? 'failed').split('\n').map((line) => line.trim()).filter(Boolean).slice(0, 3).join(' / ') || 'failed';
    const file = fail.file ? path.relative(process.cwd(), fail.file) : '?';
    yield `${file}: ${fail.name}: ${why.trim().slice(0, 1000)}\n`;
  }
}
