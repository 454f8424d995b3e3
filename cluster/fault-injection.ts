// Fault injection for tests, and only for them: hooks armed by environment variables that
// only the test harness sets. Nothing a request carries can arm one; without the variable
// every hook is absent. Kept here, at the entry points, so no actor reads the environment.
import { setTimeout as sleep } from 'node:timers/promises';
import type { PreviewFaults } from '../actors/files/file-previews.ts';
import type { FilesFaults } from '../actors/files/files.service.ts';
import type { RoomLogFaults } from '../actors/rooms/room-log.ts';

/**
 * SQUARED_TEST_FAULT_KILL_AFTER_COMMIT=<idempotency key>: the rooms actor SIGKILLs its own
 * process right after a write carrying that key committed, before it answers (a crash
 * between commit and answer, test/api/idempotency-crash.test.ts).
 */
export function roomLogFaults(env: NodeJS.ProcessEnv = process.env): RoomLogFaults {
  const killAfterCommitOf = env.SQUARED_TEST_FAULT_KILL_AFTER_COMMIT;
  if (!killAfterCommitOf) return {};
  return {
    afterKeyedCommit(key) {
      if (key === killAfterCommitOf) process.kill(process.pid, 'SIGKILL');
    },
  };
}

/**
 * SQUARED_TEST_RETENTION_CLOCK_AHEAD_DAYS=<n>: the retention sweep judges messages' age as if
 * it were n days later, so a test can see today's messages expire (test/api/retention.test.ts).
 */
export function retentionClock(env: NodeJS.ProcessEnv = process.env): (() => number) | undefined {
  const ahead = Number(env.SQUARED_TEST_RETENTION_CLOCK_AHEAD_DAYS);
  if (!Number.isFinite(ahead) || ahead <= 0) return undefined;
  return () => Date.now() + ahead * 86_400_000;
}

/**
 * SQUARED_TEST_FAULT_DROP_FILE_DELETION_EVENTS=1: the files actor does not hear messages and
 * rooms deleted (as a node down at the time would not), so a test can see a file of a deleted
 * message refused and deleted at its next read (test/api/file-deletion.test.ts).
 */
export function filesFaults(env: NodeJS.ProcessEnv = process.env): FilesFaults {
  return env.SQUARED_TEST_FAULT_DROP_FILE_DELETION_EVENTS === '1' ? { dropDeletionEvents: true } : {};
}

/**
 * SQUARED_TEST_FAULT_PREVIEW_HOLD_MS=<ms>: every preview job, its blob stored, waits that long
 * before recording it, having first written `SQUARED_TEST_PREVIEW_HELD <fileId>` to stderr, so
 * that a test knows which node holds the job and can kill it mid-job
 * (test/cluster/preview-faults.test.ts).
 */
export function previewFaults(env: NodeJS.ProcessEnv = process.env): PreviewFaults {
  const ms = Number(env.SQUARED_TEST_FAULT_PREVIEW_HOLD_MS);
  if (!Number.isFinite(ms) || ms <= 0) return {};
  return {
    async beforeRecord(fileId) {
      process.stderr.write(`SQUARED_TEST_PREVIEW_HELD ${fileId}\n`);
      await sleep(ms);
    },
  };
}
