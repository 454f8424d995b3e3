// The mediasoup worker processes of a Squared process, read from /proc (no procps needed):
// which workers it has, and which of them carry transports (they hold UDP sockets).
import fs from 'node:fs';

/** The mediasoup-worker processes that are children of `parentPid`. */
export function mediasoupWorkers(parentPid: number): number[] {
  const workers: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parentPid && fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('mediasoup-worker')) workers.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return workers;
}

/** UDP sockets a process holds: a worker with WebRTC transports has some, an idle one none. */
export function udpSockets(pid: number): number {
  const udpInodes = new Set<string>();
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    if (!fs.existsSync(table)) continue;
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const inode = line.trim().split(/\s+/)[9];
      if (inode) udpInodes.add(inode);
    }
  }
  let count = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match && udpInodes.has(match[1])) count++;
    } catch {
      // closed meanwhile
    }
  }
  return count;
}
