// The Chrome trace export: the file parses, its events nest (each event lies
// inside the event that contains its start, on the same track), the steps of each
// syscall and trap add up to its duration, and the file is bounded by --trace-events.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../src/costmodel/profile.js';
import { OUTSIDE_STEPS } from '../src/kernel/step-table.js';
import { chromeTrace, chromeTraceJson, type ChromeEvent, type ChromeTrace } from '../src/kernel/trace-export.js';
import { profileFeatures } from '../src/kernel/hooks.js';
import { runIoStatic } from '../src/workloads/io-static.js';
import { parseIoStatic } from '../src/workloads/iostatic/options.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'l41sim.js');

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root });
  }
});

/** Events are µs floats with ps resolution: allow for rounding in sums of many. */
const EPS_US = 1e-6;

function traceOf(cap: number, maxEvents = cap, path = '/data/iofile'): ChromeTrace {
  const profile = loadProfile('bbb');
  const r = runIoStatic(parseIoStatic({ read: true, buffer: '64k', total: '1m', path }), { profile, seed: '1', features: profileFeatures(profile), traceEvents: cap });
  return JSON.parse(chromeTraceJson(chromeTrace(r.kernel.steps, { pid: r.pid, tid: r.tid, processName: 'io-static', startPs: r.startPs, endPs: r.endPs, maxEvents }))) as ChromeTrace;
}

function complete(t: ChromeTrace): (ChromeEvent & { ts: number; dur: number })[] {
  return t.traceEvents.filter((e): e is ChromeEvent & { ts: number; dur: number } => e.ph === 'X');
}

/** Check that events on each track nest: sorted by start (longer first), every event ends within its enclosing one. */
function checkNesting(events: (ChromeEvent & { ts: number; dur: number })[]): void {
  const tracks = new Map<string, typeof events>();
  for (const e of events) {
    const key = `${e.pid}/${e.tid}`;
    if (!tracks.has(key)) tracks.set(key, []);
    tracks.get(key)!.push(e);
  }
  for (const list of tracks.values()) {
    list.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    const stack: typeof events = [];
    for (const e of list) {
      while (stack.length > 0 && stack[stack.length - 1]!.ts + stack[stack.length - 1]!.dur <= e.ts + EPS_US) stack.pop();
      const parent = stack[stack.length - 1];
      if (parent) expect(e.ts + e.dur, `${e.name} at ${e.ts} inside ${parent.name} at ${parent.ts}`).toBeLessThanOrEqual(parent.ts + parent.dur + EPS_US);
      stack.push(e);
    }
  }
}

/** For every syscall/trap: its direct steps (category step, within it, not inside a nested trap) add up to its duration. */
function checkSums(events: (ChromeEvent & { ts: number; dur: number })[]): number {
  const spans = events.filter((e) => e.cat === 'syscall' || e.cat === 'trap');
  const steps = events.filter((e) => e.cat === 'step').sort((a, b) => a.ts - b.ts);
  let checked = 0;
  for (const s of spans) {
    const inner = spans.filter((t) => t !== s && t.ts >= s.ts - EPS_US && t.ts + t.dur <= s.ts + s.dur + EPS_US);
    const mine = steps.filter((st) => st.ts >= s.ts - EPS_US && st.ts + st.dur <= s.ts + s.dur + EPS_US && !inner.some((t) => st.ts >= t.ts - EPS_US && st.ts + st.dur <= t.ts + t.dur + EPS_US));
    const sum = mine.reduce((a, st) => a + st.dur, 0);
    expect(Math.abs(sum - s.dur), `${s.name} at ${s.ts}: steps ${sum} vs ${s.dur}`).toBeLessThan(EPS_US * (mine.length + 1) + 1e-9 * s.dur);
    checked++;
  }
  return checked;
}

describe('Chrome trace export', () => {
  it('writes complete events with µs times, process and thread names, and a CPU track', () => {
    const t = traceOf(100_000);
    expect(t.displayTimeUnit).toBe('ns');
    const meta = t.traceEvents.filter((e) => e.ph === 'M');
    expect(meta.map((e) => e.name)).toEqual(['process_name', 'thread_name', 'process_name', 'thread_name']);
    const events = complete(t);
    expect(events.length).toBeGreaterThan(100);
    for (const e of events) {
      expect(Number.isFinite(e.ts)).toBe(true);
      expect(e.dur).toBeGreaterThanOrEqual(0);
      expect(['syscall', 'trap', 'step', 'user', 'cpu']).toContain(e.cat);
    }
    const names = new Set(events.filter((e) => e.cat === 'syscall').map((e) => e.name));
    for (const n of ['execve', 'openat', 'read', 'clock_gettime', 'exit']) expect(names.has(n)).toBe(true);
    expect(events.some((e) => e.name === 'page fault (in syscall)')).toBe(true);
    expect(events.some((e) => e.cat === 'user')).toBe(true);
    expect(t.otherData.dropped_events).toBe(0);
  });

  it('nests: every event lies inside the one that contains its start', () => {
    checkNesting(complete(traceOf(100_000)));
  });

  it('adds up: the steps of each syscall and trap sum to its duration; user time and kernel time fill the process', () => {
    const t = traceOf(100_000);
    const events = complete(t);
    expect(checkSums(events)).toBeGreaterThan(20);
    const pid = events.find((e) => e.cat === 'syscall')!.pid;
    const top = events.filter((e) => e.pid === pid && (e.cat === 'user' || ((e.cat === 'syscall' || e.cat === 'trap') && !events.some((p) => p !== e && p.cat === 'syscall' && p.ts <= e.ts && p.ts + p.dur >= e.ts + e.dur))));
    const cpu = events.find((e) => e.cat === 'cpu')!;
    const covered = top.reduce((a, e) => a + e.dur, 0);
    expect(Math.abs(covered - cpu.dur)).toBeLessThan(EPS_US * top.length + 1e-9 * cpu.dur);
    // The time outside a syscall's named steps is shown, not hidden.
    expect(events.filter((e) => e.name === OUTSIDE_STEPS).every((e) => e.cat === 'step')).toBe(true);
  });

  it('is bounded: --trace-events caps the file, which still nests and adds up', () => {
    const full = complete(traceOf(100_000)).filter((e) => e.cat !== 'cpu').length;
    expect(full).toBeGreaterThan(1000);
    for (const cap of [50, 500, Math.floor(full / 2)]) {
      const t = traceOf(cap);
      const events = complete(t).filter((e) => e.cat !== 'cpu');
      expect(events.length).toBeLessThanOrEqual(cap);
      expect(Number(t.otherData.dropped_events)).toBeGreaterThan(0);
      expect(events.length + Number(t.otherData.dropped_events)).toBeGreaterThanOrEqual(Math.min(full, cap));
      checkNesting(complete(t));
      checkSums(complete(t));
    }
  });

  it('l41sim workload dd and io-static write --trace-out files that parse', () => {
    const dir = mkdtempSync(join(tmpdir(), 'l41sim-trace-'));
    for (const [args, file] of [
      [['workload', 'dd', '--bs', '1m', '--count', '2', '--trace', 'none'], 'dd.json'],
      [['workload', 'io-static', '-r', '-b', '64k', '-t', '1m', '--profile', 'bbb', '/dev/zero'], 'io.json'],
    ] as const) {
      const out = join(dir, file);
      const r = spawnSync(process.execPath, [bin, ...args, '--trace-out', out, '--trace-events', '5000'], { cwd: root, encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      const t = JSON.parse(readFileSync(out, 'utf8')) as ChromeTrace;
      const events = complete(t);
      expect(events.filter((e) => e.cat !== 'cpu').length).toBeLessThanOrEqual(5000);
      checkNesting(events);
    }
  });
});
