// Reading a process's memory and CPU time from /proc (Linux only).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

function statusField(pid: number, field: string): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Peak resident set size (VmHWM) in KiB, undefined if the process is gone. */
export const peakRssKiB = (pid: number) => statusField(pid, 'VmHWM');
/** Current resident set size (VmRSS) in KiB. */
export const rssKiB = (pid: number) => statusField(pid, 'VmRSS');

/** User + system CPU time of a process in milliseconds. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** Samples the VmRSS of a group of processes (summed) every `everyMs` and keeps the maximum. */
export function rssSampler(pids: number[], everyMs = 250): { stop(): number | undefined } {
  let max: number | undefined;
  const sample = () => {
    const each = pids.map(rssKiB);
    if (each.every((rss) => rss !== undefined)) max = Math.max(max ?? 0, each.reduce((s, rss) => s + rss!, 0));
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return max;
    },
  };
}

/**
 * Scheduler statistics of a process's main thread in milliseconds: time on a CPU and time
 * runnable but waiting for one (run-queue delay, i.e. CPU starvation by other processes).
 */
export function schedMs(pid: number): { onCpu: number; waiting: number } | undefined {
  try {
    const [onCpu, waiting] = fs.readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return { onCpu: onCpu / 1e6, waiting: waiting / 1e6 };
  } catch {
    return undefined;
  }
}
