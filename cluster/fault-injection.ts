// Fault injection for tests, and only for them: hooks armed by environment variables that
// only the test harness sets. Nothing a request carries can arm one; without the variable
// every hook is absent. Kept here, at the entry points, so no actor reads the environment.
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
