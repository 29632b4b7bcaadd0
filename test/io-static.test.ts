// io-static on the modelled machine: its options as the real benchmark takes them,
// the loop it times, and the properties a student would check on a real machine.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../src/costmodel/profile.js';
import { UsageError } from '../src/errors.js';
import { profileFeatures } from '../src/kernel/hooks.js';
import { runIoStatic, type IoStaticReport } from '../src/workloads/io-static.js';
import { IO_DEFAULT_BUFFER_BYTES, IO_DEFAULT_TOTAL_BYTES, parseIoStatic, type IoStaticText } from '../src/workloads/iostatic/options.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'l41sim.js');

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root });
  }
});

function l41sim(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const profiles = { bbb: loadProfile('bbb'), lecture: loadProfile('lecture') };

function run(text: IoStaticText, profile: keyof typeof profiles = 'bbb', extra: { coldCache?: boolean } = {}): IoStaticReport {
  const p = profiles[profile];
  const r = runIoStatic(parseIoStatic({ total: '1m', ...text }), { profile: p, seed: '1', features: profileFeatures(p), coldCache: extra.coldCache ?? false }).report;
  expect(r.exit_status, r.stderr.join('; ')).toBe(0);
  return r;
}

describe('io-static options', () => {
  it('defaults to a 16 KiB buffer and 16 MiB total, as the real benchmark', () => {
    const o = parseIoStatic({ read: true, path: '/dev/zero' });
    expect(o.bufferBytes).toBe(IO_DEFAULT_BUFFER_BYTES);
    expect(o.totalBytes).toBe(IO_DEFAULT_TOTAL_BYTES);
    expect(IO_DEFAULT_BUFFER_BYTES).toBe(16384);
    expect(IO_DEFAULT_TOTAL_BYTES).toBe(16 * 1024 * 1024);
  });

  it('takes sizes in bytes or with suffixes', () => {
    expect(parseIoStatic({ read: true, buffer: '1024', total: '1m', path: '/dev/zero' }).bufferBytes).toBe(1024);
    expect(parseIoStatic({ read: true, buffer: '64k', total: '1m', path: '/dev/zero' }).bufferBytes).toBe(65536);
  });

  it.each<[IoStaticText, string]>([
    [{ path: '/dev/zero' }, '-c|-r|-w: no mode given'],
    [{ read: true, write: true, path: '/dev/zero' }, '-c|-r|-w: more than one mode'],
    [{ read: true, buffer: '0', path: '/dev/zero' }, '-b:'],
    [{ read: true, buffer: '3000', total: '1m', path: '/dev/zero' }, '-t: 1048576 bytes is not a whole number of 3000-byte buffers'],
    [{ read: true, path: 'iofile' }, "path: 'iofile' is not an absolute path"],
    [{ read: true }, 'path: no path given'],
    [{ read: true, direct: true, path: '/dev/zero' }, '-d: O_DIRECT'],
  ])('refuses %j naming the option', (text, message) => {
    expect(() => parseIoStatic(text)).toThrow(UsageError);
    expect(() => parseIoStatic(text)).toThrow(message);
  });
});

describe('io-static runs', () => {
  it('reading a cached file is slower than reading /dev/zero (page-cache lookups and data from memory, not a cached zero page)', () => {
    for (const profile of ['bbb', 'lecture'] as const) {
      for (const buffer of ['4k', '64k']) {
        const zero = run({ read: true, buffer, path: '/dev/zero' }, profile);
        const file = run({ read: true, buffer, path: '/data/iofile' }, profile);
        expect(file.bandwidth_kib_s, `${profile} ${buffer}`).toBeLessThan(zero.bandwidth_kib_s);
        expect(file.syscalls.count).toBe(zero.syscalls.count);
        expect(file.storage.read_pages).toBe(0); // cached: no storage I/O
      }
    }
  });

  it('bigger buffers never take more system calls, and the loop is exactly total / buffer calls', () => {
    let last = Infinity;
    for (let b = 1024; b <= 1024 * 1024; b *= 4) {
      const r = run({ read: true, buffer: String(b), path: '/dev/zero' });
      expect(r.syscalls.count).toBe(1024 * 1024 / b);
      expect(r.syscalls.by_syscall.read?.count).toBe(1024 * 1024 / b);
      expect(r.syscalls.count).toBeLessThanOrEqual(last);
      last = r.syscalls.count;
    }
  });

  it('times the loop between the clock_gettime calls: loop time covers its system calls, bandwidth = total / time', () => {
    const r = run({ read: true, buffer: '16k', path: '/data/iofile' });
    expect(r.syscalls.time_ns).toBeLessThanOrEqual(r.time_ns);
    expect(r.syscalls.time_ns).toBeGreaterThan(0.9 * r.time_ns); // little user time in a read loop
    expect(r.bandwidth_kib_s).toBeCloseTo(r.total_bytes / 1024 / (r.time_ns / 1e9), 6);
    expect(r.syscalls.by_syscall.clock_gettime).toBeUndefined(); // the two clock reads bound the loop
    expect(r.process.syscalls).toBeGreaterThan(r.syscalls.count);
  });

  it('allocates the buffer once with calloc semantics: each buffer page faults once, in the first pass', () => {
    const pageBytes = profiles.bbb.machine.page_bytes.value;
    for (const buffer of [4096, 65536, 4 * 1024 * 1024]) {
      const r = run({ read: true, buffer: String(buffer), total: '8m', path: '/dev/zero' });
      expect(r.faults.minor, `${buffer}`).toBe(buffer / pageBytes);
      expect(r.faults.in_syscalls).toBe(buffer / pageBytes); // first touched by copyout, inside read()
    }
    // write(2) to /dev/null never reads the buffer, so it is never touched at all.
    expect(run({ write: true, buffer: '64k', path: '/dev/null' }).faults.minor).toBe(0);
  });

  it('a cold cache pays storage I/O for a file, and only for a file', () => {
    const warm = run({ read: true, buffer: '64k', path: '/data/iofile' });
    const cold = run({ read: true, buffer: '64k', path: '/data/iofile' }, 'bbb', { coldCache: true });
    const pages = (1024 * 1024) / profiles.bbb.machine.page_bytes.value;
    expect(cold.storage.read_pages).toBe(pages);
    expect(cold.storage.requests).toBeGreaterThan(0);
    expect(cold.storage.requests).toBeLessThan(pages); // clustered reads
    expect(cold.time_ns - warm.time_ns).toBeGreaterThanOrEqual(cold.storage.time_ns * 0.99);
    const zero = run({ read: true, buffer: '64k', path: '/dev/zero' }, 'bbb', { coldCache: true });
    expect(zero.storage.read_pages).toBe(0);
  });

  it('-s fsyncs inside the timed loop, writing every dirty page to storage', () => {
    const plain = run({ write: true, buffer: '64k', path: '/data/iofile' });
    const synced = run({ write: true, buffer: '64k', path: '/data/iofile', fsync: true });
    expect(plain.storage.write_pages).toBe(0);
    expect(synced.storage.write_pages).toBeGreaterThanOrEqual((1024 * 1024) / 4096);
    expect(synced.syscalls.by_syscall.fsync?.count).toBe(1);
    expect(synced.bandwidth_kib_s).toBeLessThan(plain.bandwidth_kib_s);
  });

  it('create mode makes the file; a missing device fails as the real program does', () => {
    expect(run({ create: true, buffer: '64k', path: '/data/new' }).syscalls.by_syscall.write?.count).toBe(16);
    const p = profiles.bbb;
    const r = runIoStatic(parseIoStatic({ read: true, path: '/dev/nosuch' }), { profile: p, seed: '1', features: profileFeatures(p) }).report;
    expect(r.exit_status).toBe(66); // EX_NOINPUT
    expect(r.stderr).toEqual(['io-static: FAIL: /dev/nosuch: No such file or directory']);
  });

  it('is deterministic for a seed', () => {
    const a = run({ read: true, buffer: '16k', path: '/data/iofile' });
    const b = run({ read: true, buffer: '16k', path: '/data/iofile' });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });
});

describe('io-static on a Linux host profile (the shipped host-vm)', () => {
  it('runs the static glibc program: clock reads through the vDSO, the same loop, /dev/zero faster than a cached file', () => {
    const p = loadProfile('host-vm');
    const go = (path: string) => runIoStatic(parseIoStatic({ read: true, buffer: '16k', total: '1m', path }), { profile: p, seed: '1', features: profileFeatures(p) }).report;
    const zero = go('/dev/zero');
    const file = go('/data/iofile');
    for (const r of [zero, file]) {
      expect(r.exit_status, r.stderr.join('; ')).toBe(0);
      expect(r.syscalls.count).toBe(64);
      expect(r.syscalls.by_syscall.read?.count).toBe(64);
    }
    expect(file.bandwidth_kib_s).toBeLessThan(zero.bandwidth_kib_s);
  });
});

describe('l41sim workload io-static', () => {
  it('prints the bandwidth, and with -v the configuration and time', () => {
    const plain = l41sim('workload', 'io-static', '-r', '-t', '1m', '--profile', 'bbb', '/dev/zero');
    expect(plain.status).toBe(0);
    expect(plain.stdout).toMatch(/^\d+\.\d\d KBytes\/sec\n$/);
    const v = l41sim('workload', 'io-static', '-rv', '-b', '4096', '-t', '1048576', '--profile', 'bbb', '/data/iofile');
    expect(v.status).toBe(0);
    const lines = v.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 6)).toEqual(['Benchmark configuration:', '  buffersize: 4096', '  totalsize: 1048576', '  blockcount: 256', '  operation: read', '  path: /data/iofile']);
    expect(lines[6]).toMatch(/^ {2}time: \d+\.\d{9}$/);
    expect(lines[7]).toMatch(/^\d+\.\d\d KBytes\/sec$/);
    expect(l41sim('workload', 'io-static', '-rq', '-t', '1m', '/dev/zero').stdout).toBe('');
  });

  it('--json has the loop figures', () => {
    const r = l41sim('workload', 'io-static', '-w', '-b', '16k', '-t', '1m', '--profile', 'lecture', '--json', '/data/iofile');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as IoStaticReport;
    expect(j.buffer_bytes).toBe(16384);
    expect(j.total_bytes).toBe(1048576);
    expect(j.syscalls.count).toBe(64);
    expect(j.time_ns).toBeGreaterThan(0);
    expect(j.bandwidth_kib_s).toBeGreaterThan(0);
    expect(typeof j.syscalls.time_ns).toBe('number');
    expect(typeof j.faults.minor).toBe('number');
  });

  it("refuses bad flags with one line and exit 2; a failed open exits with the program's status, 66", () => {
    const none = l41sim('workload', 'io-static', '/dev/zero');
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/^l41sim: -c\|-r\|-w: no mode given; expected exactly one of/);
    expect(none.stderr.trimEnd().split('\n')).toHaveLength(1);
    const missing = l41sim('workload', 'io-static', '-r', '/dev/nosuch');
    expect(missing.status).toBe(66);
    expect(missing.stderr).toBe('l41sim: io-static: the modelled io-static exited with status 66: io-static: FAIL: /dev/nosuch: No such file or directory\n');
  });
});
