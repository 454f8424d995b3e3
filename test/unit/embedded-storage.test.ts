import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openEmbeddedStorage } from '../../storage/embedded/index.ts';
import { attachmentActionStoreConformance } from '../storage/attachment-action-store.conformance.ts';
import { conferenceStoreConformance } from '../storage/conference-store.conformance.ts';
import { meetingIdempotencyConformance } from '../storage/meeting-idempotency.conformance.ts';
import { peopleStoreConformance } from '../storage/people-store.conformance.ts';
import { roomIdempotencyConformance } from '../storage/room-idempotency.conformance.ts';
import { readPositionsConformance } from '../storage/read-positions.conformance.ts';
import { roomStoreMoreConformance } from '../storage/room-store-more.conformance.ts';
import { roomStoreConformance } from '../storage/room-store.conformance.ts';
import { teamIdempotencyConformance } from '../storage/team-idempotency.conformance.ts';
import { teamStoreConformance } from '../storage/team-store.conformance.ts';
import { webhookStoreConformance } from '../storage/webhook-store.conformance.ts';

const openFresh = () => openEmbeddedStorage(fs.mkdtempSync(path.join(os.tmpdir(), 'squared-store-')), false);

roomStoreConformance('embedded SQLite', async () => openFresh().rooms);
roomStoreMoreConformance('embedded SQLite', async () => openFresh().rooms);
readPositionsConformance('embedded SQLite', async () => openFresh().rooms);
roomIdempotencyConformance('embedded SQLite', async () => openFresh().rooms, 'refused');
peopleStoreConformance('embedded SQLite', async () => openFresh().people);
teamStoreConformance('embedded SQLite', async () => openFresh().teams);
teamIdempotencyConformance('embedded SQLite', async () => openFresh().teams);
conferenceStoreConformance('embedded SQLite', async () => openFresh().conferences);
webhookStoreConformance('embedded SQLite', async () => openFresh().webhooks);
attachmentActionStoreConformance('embedded SQLite', async () => openFresh().attachmentActions);
meetingIdempotencyConformance('embedded SQLite', async () => openFresh().conferences);
