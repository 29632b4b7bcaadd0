// The D scripts l41sim can "run": the lecture's, and the probe-effect lecture's.
// Each is its D text (shown to the user) and the same clauses as data, which the
// DTrace model executes at the modelled probe sites, paying for each firing.

export type ProbeSpec =
  | { provider: 'syscall'; name: 'entry' | 'return' }
  | { provider: 'fbt'; func: string; name: 'entry' | 'return' }
  | { provider: 'lockstat' }
  | { provider: 'profile'; hz: number }
  | { provider: 'dtmalloc' };

/** A conjunction term of a predicate. */
export type Term = { execname: string } | { self: string; op: '==' | '!='; value: number };

export type Action =
  | { set: string; to: 'timestamp' | number }
  | { set: 'length'; to: 'timestamp - self->start' }
  | { agg: string; fn: 'count'; key?: 'probefunc' | 'stack' }
  | { agg: string; fn: 'sum' | 'quantize'; of: 'length'; key?: 'probefunc' | 'stack' };

export interface Clause {
  probe: ProbeSpec;
  predicate: Term[];
  actions: Action[];
}

export interface Script {
  name: string;
  doc: string;
  text: string;
  clauses: Clause[];
}

const dd: Term = { execname: 'dd' };

export const SCRIPTS: Record<string, Script> = {
  'syscall-time': {
    name: 'syscall-time',
    doc: "the lecture's per-syscall time script (System calls in practice: dd)",
    text: `syscall:::entry /execname == "dd"/ {
  self->start = timestamp;
  self->insyscall = 1;
}
syscall:::return /execname == "dd" && self->insyscall != 0/ {
  length = timestamp - self->start;
  @syscall_time[probefunc] = sum(length);
  @totaltime = sum(length);
  self->insyscall = 0;
}`,
    clauses: [
      { probe: { provider: 'syscall', name: 'entry' }, predicate: [dd], actions: [{ set: 'self->start', to: 'timestamp' }, { set: 'self->insyscall', to: 1 }] },
      {
        probe: { provider: 'syscall', name: 'return' },
        predicate: [dd, { self: 'insyscall', op: '!=', value: 0 }],
        actions: [
          { set: 'length', to: 'timestamp - self->start' },
          { agg: 'syscall_time', fn: 'sum', of: 'length', key: 'probefunc' },
          { agg: 'totaltime', fn: 'sum', of: 'length' },
          { set: 'self->insyscall', to: 0 },
        ],
      },
    ],
  },
  traps: {
    name: 'traps',
    doc: "the lecture's syscall and trap counting script (Traps in practice: dd)",
    text: `syscall:::entry /execname == "dd"/ {
  @syscalls = count(); self->insyscall = 1; self->start = timestamp;
}
syscall:::return /execname == "dd" && self->insyscall != 0/ {
  length = timestamp - self->start; @syscall_time = sum(length); self->insyscall = 0;
}
fbt::trap:entry /execname == "dd" && self->insyscall == 0/ {
  @traps = count(); self->start = timestamp;
}
fbt::trap:return /execname == "dd" && self->insyscall == 0/ {
  length = timestamp - self->start; @trap_time = sum(length);
}`,
    clauses: [
      {
        probe: { provider: 'syscall', name: 'entry' },
        predicate: [dd],
        actions: [{ agg: 'syscalls', fn: 'count' }, { set: 'self->insyscall', to: 1 }, { set: 'self->start', to: 'timestamp' }],
      },
      {
        probe: { provider: 'syscall', name: 'return' },
        predicate: [dd, { self: 'insyscall', op: '!=', value: 0 }],
        actions: [{ set: 'length', to: 'timestamp - self->start' }, { agg: 'syscall_time', fn: 'sum', of: 'length' }, { set: 'self->insyscall', to: 0 }],
      },
      {
        probe: { provider: 'fbt', func: 'trap', name: 'entry' },
        predicate: [dd, { self: 'insyscall', op: '==', value: 0 }],
        actions: [{ agg: 'traps', fn: 'count' }, { set: 'self->start', to: 'timestamp' }],
      },
      {
        probe: { provider: 'fbt', func: 'trap', name: 'return' },
        predicate: [dd, { self: 'insyscall', op: '==', value: 0 }],
        actions: [{ set: 'length', to: 'timestamp - self->start' }, { agg: 'trap_time', fn: 'sum', of: 'length' }],
      },
    ],
  },
  profile: {
    name: 'profile',
    doc: "the lecture's kernel stack profile (profile-997)",
    text: `profile-997 /execname == "dd"/ { @traces[stack()] = count(); }`,
    clauses: [{ probe: { provider: 'profile', hz: 997 }, predicate: [dd], actions: [{ agg: 'traces', fn: 'count', key: 'stack' }] }],
  },
  'dtmalloc-count': {
    name: 'dtmalloc-count',
    doc: 'probe effect example: count kernel malloc events',
    text: `dtmalloc::: { @count = count(); }`,
    clauses: [{ probe: { provider: 'dtmalloc' }, predicate: [], actions: [{ agg: 'count', fn: 'count' }] }],
  },
  'lockstat-count': {
    name: 'lockstat-count',
    doc: 'probe effect example: count every lock event, system-wide',
    text: `lockstat::: { @count = count(); }`,
    clauses: [{ probe: { provider: 'lockstat' }, predicate: [], actions: [{ agg: 'count', fn: 'count' }] }],
  },
  'lockstat-count-dd': {
    name: 'lockstat-count-dd',
    doc: "probe effect example: count dd's lock events (the predicate runs on every event)",
    text: `lockstat::: /execname == "dd"/ { @count = count(); }`,
    clauses: [{ probe: { provider: 'lockstat' }, predicate: [dd], actions: [{ agg: 'count', fn: 'count' }] }],
  },
  'lockstat-stacks': {
    name: 'lockstat-stacks',
    doc: 'probe effect example: count lock events by kernel stack',
    text: `lockstat::: { @stacks[stack()] = count(); }`,
    clauses: [{ probe: { provider: 'lockstat' }, predicate: [], actions: [{ agg: 'stacks', fn: 'count', key: 'stack' }] }],
  },
  'lockstat-stacks-dd': {
    name: 'lockstat-stacks-dd',
    doc: "probe effect example: count dd's lock events by kernel stack",
    text: `lockstat::: /execname == "dd"/ { @stacks[stack()] = count(); }`,
    clauses: [{ probe: { provider: 'lockstat' }, predicate: [dd], actions: [{ agg: 'stacks', fn: 'count', key: 'stack' }] }],
  },
};

export const SCRIPT_NAMES = Object.keys(SCRIPTS);
