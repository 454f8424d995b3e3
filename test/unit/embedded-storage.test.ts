import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openEmbeddedStorage } from '../../storage/embedded/index.ts';
import { roomStoreConformance } from '../storage/room-store.conformance.ts';

roomStoreConformance('embedded SQLite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-store-'));
  return openEmbeddedStorage(dir, false).rooms;
});
