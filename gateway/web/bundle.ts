// The meeting page's script: meeting-client/ and mediasoup-client bundled by esbuild in
// memory, once per process. Built on first use rather than shipped prebuilt, so the page
// can never be stale against the code of the gateway that serves it.
import { createHash } from 'node:crypto';
import path from 'node:path';
import * as esbuild from 'esbuild';

export interface Bundle {
  js: Buffer;
  /** A digest of `js`: the page asks for `app.js?v=<version>`, which can be cached for good. */
  version: string;
}

const ENTRY = path.join(import.meta.dirname, 'meeting-client', 'main.ts');

let building: Promise<Bundle> | undefined;

export function meetingBundle(): Promise<Bundle> {
  building ??= build().catch((err: unknown) => {
    building = undefined; // a failed build is retried by the next request, not cached
    throw err;
  });
  return building;
}

async function build(): Promise<Bundle> {
  try {
    const result = await esbuild.build({
      entryPoints: [ENTRY],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      // The browsers mediasoup-client has handlers for.
      target: ['chrome111', 'firefox120', 'safari16'],
      minify: true,
      legalComments: 'eof',
      logLevel: 'silent',
    });
    const js = Buffer.from(result.outputFiles[0].contents);
    return { js, version: createHash('sha256').update(js).digest('base64url').slice(0, 16) };
  } finally {
    // esbuild keeps a service child process for later builds; there are none.
    await esbuild.stop();
  }
}
