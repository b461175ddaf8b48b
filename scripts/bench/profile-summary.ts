// Summarise a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per file, as a share of
// the sampled time, and the longest stretches without an idle sample.
//   node --import tsx scripts/bench/profile-summary.ts FILE.cpuprofile [--top N] [--samples] [--window FROM_S TO_S | --mono FROM_US TO_US]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const args = process.argv.slice(2);
const file = args.find((a) => a.endsWith('.cpuprofile'));
if (!file) {
  console.error(
    'usage: profile-summary.ts FILE.cpuprofile [--top N] [--samples] [--window FROM_S TO_S | --mono FROM_US TO_US]',
  );
  process.exit(2);
}
const topIdx = args.indexOf('--top');
const top = topIdx >= 0 ? Number(args[topIdx + 1]) : 30;
// `--window FROM TO`: only samples between FROM and TO seconds after the profile started.
// `--mono FROM TO`: only samples between two CLOCK_MONOTONIC µs times (the bench logs its streaming windows).
const winIdx = args.indexOf('--window');
const monoIdx = args.indexOf('--mono');
const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const win =
  winIdx >= 0
    ? [Number(args[winIdx + 1]) * 1e6, Number(args[winIdx + 2]) * 1e6]
    : monoIdx >= 0
      ? [Number(args[monoIdx + 1]) - prof.startTime, Number(args[monoIdx + 2]) - prof.startTime]
      : [0, Infinity];
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const bySamples = args.includes('--samples');
const interval = (prof.endTime - prof.startTime) / Math.max(1, prof.samples.length);
const selfUs = new Map<number, number>();
let at = 0;
for (let i = 0; i < prof.samples.length; i++) {
  at += prof.timeDeltas[i] ?? 0;
  if (at < win[0] || at > win[1]) continue;
  const id = prof.samples[i];
  // --samples: weigh every sample alike. Sample times are wall time, so on a saturated machine a thread that
  // was descheduled charges the wait to whatever ran next; counting samples approximates CPU time better.
  const w = bySamples ? interval : (prof.timeDeltas[i] ?? 0);
  selfUs.set(id, (selfUs.get(id) ?? 0) + w);
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const shortUrl = (u: string) =>
  u
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, 'nm/')
    .replace(/^.*\/main\//, '');
const byFn = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, us] of selfUs) {
  const cf = byId.get(id)?.callFrame;
  if (!cf) continue;
  const url = shortUrl(cf.url) || '(native)';
  const fn = `${cf.functionName || '(anonymous)'} ${url}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
  byFn.set(fn, (byFn.get(fn) ?? 0) + us);
  byFile.set(url, (byFile.get(url) ?? 0) + us);
}
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(
      `${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`,
    );
  }
};
const idle = byFn.get('(idle) (native)') ?? 0;
console.log(
  `${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(((total - idle) / total) * 100).toFixed(1)}% not idle`,
);
show('self time by function', byFn);
show('self time by file', byFile);

// Longest stretches without an idle sample: how long the event loop was blocked by one run of work (the
// process may also have been descheduled inside a stretch; samples carry wall time).
const idleIds = new Set(prof.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
const stretches: { startMs: number; ms: number; samples: number }[] = [];
let t = 0;
let cur: { startMs: number; ms: number; samples: number } | null = null;
for (let i = 0; i < prof.samples.length; i++) {
  const dt = (prof.timeDeltas[i] ?? 0) / 1000;
  t += dt;
  if (idleIds.has(prof.samples[i])) {
    if (cur) stretches.push(cur);
    cur = null;
  } else if (cur) {
    cur.ms += dt;
    cur.samples++;
  } else cur = { startMs: t, ms: 0, samples: 1 };
}
if (cur) stretches.push(cur);
stretches.sort((a, b) => b.ms - a.ms);
console.log('\nlongest busy stretches (no idle sample between):');
for (const s of stretches.slice(0, 10))
  console.log(`  at ${(s.startMs / 1000).toFixed(2)} s: ${s.ms.toFixed(1)} ms (${s.samples} samples)`);
