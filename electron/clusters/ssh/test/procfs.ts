// What /proc says about sockets and processes, for tests that must show which process holds a connection or a
// listening port (a jump host's forward, an sshd's reverse forward).
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

function ppid(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

export function descendsFrom(pid: number, ancestor: number): boolean {
  for (let p = pid; p > 1; p = ppid(p)) if (p === ancestor) return true;
  return false;
}

/** Pids holding an IPv4 TCP socket in `state` (01 established: remote port `port`; 0A listening: local port). */
export function socketHolders(port: number, state: 'established-to' | 'listening-on'): number[] {
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [addr, st] = state === 'established-to' ? [f[2]!, '01'] : [f[1]!, '0A'];
    if (f[3] === st && parseInt(addr.split(':')[1]!, 16) === port) inodes.add(`socket:[${f[9]}]`);
  }
  const out = new Set<number>();
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (inodes.has(readlinkSync(`/proc/${name}/fd/${fd}`))) out.add(Number(name));
      } catch {
        // closed meanwhile
      }
    }
  }
  return [...out];
}

/** Live (not zombie) processes whose command line contains every one of `texts`. */
export function pidsMentioning(...texts: string[]): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat[stat.lastIndexOf(')') + 2] === 'Z') continue;
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (texts.every((t) => cmd.includes(t))) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Whether `pid` runs (a zombie does not). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}
