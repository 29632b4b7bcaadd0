// Export of a run's timeline (StepLedger.timeline) in the Chrome trace event format,
// which Perfetto (ui.perfetto.dev) and chrome://tracing open. Every span is a
// complete event ("ph": "X") with its start and duration in microseconds (floats,
// to the picosecond): system calls and traps, the top-level steps that partition
// them (so a syscall's steps add up to its duration), faults nested in the step that
// took them, and the user-mode time between kernel entries. A second track, the
// CPU, shows when the process occupied it.
//
// The export is bounded: the ledger records at most its cap of events, and the
// whole file holds at most `maxEvents` events; when the run had more, the trace
// covers its beginning and says how many were left out (otherData.dropped_events).
// A cut never leaves a span without some of its steps: spans that end after the
// cut are left out with everything that starts after it.
//
// Time of a span that none of its top-level steps covers (code fetched on entering
// a function between two steps) is shown as a pseudo-step, OUTSIDE_STEPS, so the
// steps of every span add up to its duration in the trace.

import { OUTSIDE_STEPS } from './step-table.js';
import type { StepLedger, TimelineEvent } from './steps.js';

export interface ChromeEvent {
  name: string;
  cat?: string;
  ph: 'X' | 'M';
  ts?: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: ChromeEvent[];
  displayTimeUnit: 'ns';
  otherData: Record<string, string | number>;
}

export interface TraceExportOptions {
  /** The traced process: its pid, thread id and name (p_comm). */
  pid: number;
  tid: number;
  processName: string;
  /** When the process took and left the CPU (ps). */
  startPs: number;
  endPs: number;
  /** At most this many events in the file (metadata aside). */
  maxEvents: number;
  /** Free-form facts recorded in otherData (profile, seed, command). */
  info?: Record<string, string | number>;
}

/** The CPU track: a pseudo-process of its own. */
const CPU_PID = 0;
const CPU_TID = 0;

const usPerPs = 1e-6;

function complete(name: string, cat: string, startPs: number, durPs: number, pid: number, tid: number): ChromeEvent {
  return { name, cat, ph: 'X', ts: startPs * usPerPs, dur: durPs * usPerPs, pid, tid };
}

/** User-mode segments: the time within [from, to) outside every top-level (depth 0) syscall or trap. */
function userSegments(timeline: readonly TimelineEvent[], from: number, to: number): [number, number][] {
  const top = timeline.filter((e) => e.depth === 0 && (e.cat === 'syscall' || e.cat === 'trap')).sort((a, b) => a.startPs - b.startPs);
  const out: [number, number][] = [];
  let t = from;
  for (const e of top) {
    if (e.startPs >= to) break;
    if (e.startPs > t) out.push([t, e.startPs]);
    t = Math.max(t, e.startPs + e.durPs);
  }
  if (to > t) out.push([t, to]);
  return out;
}

/** Below this (ps) a gap between steps is rounding in the time cursor, not time. */
const GAP_EPSILON_PS = 1e-3;


/**
 * The time of each syscall or trap that none of its top-level steps covers (the
 * code fetch of a function entered between two steps, say), as pseudo-steps named
 * OUTSIDE_STEPS, so a span's steps always add up to its duration in the trace.
 */
function unattributed(events: readonly { name: string; cat: string; startPs: number; durPs: number; depth: number }[]) {
  const stepsByDepth = new Map<number, { startPs: number; durPs: number }[]>();
  for (const e of events) {
    if (e.cat !== 'step') continue;
    let list = stepsByDepth.get(e.depth);
    if (!list) stepsByDepth.set(e.depth, (list = []));
    list.push(e);
  }
  for (const list of stepsByDepth.values()) list.sort((a, b) => a.startPs - b.startPs);
  const out: { name: string; cat: string; startPs: number; durPs: number; depth: number }[] = [];
  for (const span of events) {
    if (span.cat !== 'syscall' && span.cat !== 'trap') continue;
    const list = stepsByDepth.get(span.depth + 1) ?? [];
    const end = span.startPs + span.durPs;
    // First step starting at or after the span's start (binary search).
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.startPs < span.startPs - GAP_EPSILON_PS) lo = mid + 1;
      else hi = mid;
    }
    let t = span.startPs;
    for (let i = lo; i < list.length && list[i]!.startPs < end - GAP_EPSILON_PS; i++) {
      const st = list[i]!;
      if (st.startPs - t > GAP_EPSILON_PS) out.push({ name: OUTSIDE_STEPS, cat: 'step', startPs: t, durPs: st.startPs - t, depth: span.depth + 1 });
      t = Math.max(t, st.startPs + st.durPs);
    }
    if (end - t > GAP_EPSILON_PS) out.push({ name: OUTSIDE_STEPS, cat: 'step', startPs: t, durPs: end - t, depth: span.depth + 1 });
  }
  return out;
}

export function chromeTrace(ledger: StepLedger, o: TraceExportOptions): ChromeTrace {
  const timeline = ledger.timeline;
  const truncated = ledger.timelineDropped > 0;
  // With a full ledger the timeline stops part way: user time is known only up to the last recorded event.
  let coveredTo = o.endPs;
  if (truncated) coveredTo = timeline.reduce((m, e) => Math.max(m, e.startPs + e.durPs), o.startPs);
  type Ev = { name: string; cat: string; startPs: number; durPs: number; depth: number };
  const events: Ev[] = timeline.map((e) => ({ name: e.name, cat: e.cat, startPs: e.startPs, durPs: e.durPs, depth: e.depth }));
  if (!timeline.some((e) => e.cat === 'user')) {
    for (const [a, b] of userSegments(timeline, o.startPs, coveredTo)) events.push({ name: 'user', cat: 'user', startPs: a, durPs: b - a, depth: 0 });
  }
  events.push(...unattributed(events));
  // Parents first: by start, then longer first, then shallower first.
  events.sort((a, b) => a.startPs - b.startPs || b.durPs - a.durPs || a.depth - b.depth);
  let kept = events;
  let dropped = ledger.timelineDropped;
  if (events.length > o.maxEvents) {
    const cut = events[o.maxEvents]!.startPs;
    kept = events.filter((e) => e.startPs < cut && e.startPs + e.durPs <= cut);
    dropped += events.length - kept.length;
    coveredTo = Math.min(coveredTo, cut);
  }
  const traceEvents: ChromeEvent[] = [
    { name: 'process_name', ph: 'M', pid: o.pid, tid: o.tid, args: { name: `${o.processName} (pid ${o.pid})` } },
    { name: 'thread_name', ph: 'M', pid: o.pid, tid: o.tid, args: { name: `${o.processName} main thread (tid ${o.tid})` } },
    { name: 'process_name', ph: 'M', pid: CPU_PID, tid: CPU_TID, args: { name: 'machine' } },
    { name: 'thread_name', ph: 'M', pid: CPU_PID, tid: CPU_TID, args: { name: 'cpu0' } },
    complete(`${o.processName} (pid ${o.pid})`, 'cpu', o.startPs, Math.max(0, coveredTo - o.startPs), CPU_PID, CPU_TID),
  ];
  for (const e of kept) traceEvents.push(complete(e.name, e.cat, e.startPs, e.durPs, o.pid, o.tid));
  return {
    traceEvents,
    displayTimeUnit: 'ns',
    otherData: {
      generator: 'l41sim',
      time_unit: 'ts and dur in microseconds of simulated time',
      ...(o.info ?? {}),
      events: kept.length,
      dropped_events: dropped,
    },
  };
}

/** The trace as JSON text, one event per line (so a large file stays greppable). */
export function chromeTraceJson(t: ChromeTrace): string {
  const events = t.traceEvents.map((e) => JSON.stringify(e)).join(',\n');
  return `{"displayTimeUnit":"ns","otherData":${JSON.stringify(t.otherData)},"traceEvents":[\n${events}\n]}\n`;
}
