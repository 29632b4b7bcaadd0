// One file system for every workload (issue 12, point 6): the machine has the
// system's files, devices under /dev, and the data files declared for the run
// (--file, a profile's "files"); dd and io-static see the same ones, and anything
// else fails with the real programs' messages and exit statuses.

import { describe, expect, it } from 'vitest';
import { loadProfile, validateProfile } from '../src/costmodel/profile.js';
import { UsageError } from '../src/errors.js';
import { bootKernel } from '../src/kernel/boot.js';
import { profileFeatures } from '../src/kernel/hooks.js';
import { mergeFiles, type FileDecl } from '../src/kernel/vfs.js';
import { parseOperands } from '../src/workloads/dd/operands.js';
import { runDd } from '../src/workloads/dd/run.js';
import { parseFileDecl } from '../src/workloads/files.js';
import { runIoStatic } from '../src/workloads/io-static.js';
import { parseIoStatic, type IoStaticText } from '../src/workloads/iostatic/options.js';
import { expandPoints, loadSweepProfiles, validateSweepConfig } from '../src/workloads/sweep/config.js';
import { runPoint } from '../src/workloads/sweep/point.js';
import { cli } from './helpers/cli.js';

const MiB = 1024 * 1024;
const DATA: FileDecl = { path: '/lab/data.bin', bytes: 2 * MiB };

function io(profileName: string, text: IoStaticText, files: FileDecl[] = []) {
  const profile = loadProfile(profileName);
  return runIoStatic(parseIoStatic({ total: '1m', buffer: '64k', ...text }), { profile, seed: '1', features: profileFeatures(profile), files }).report;
}

function dd(profileName: string, operands: Record<string, string>, files: FileDecl[] = []) {
  const profile = loadProfile(profileName);
  return runDd(parseOperands({ bs: '64k', count: '4', ...operands }, profile.userland.dd), { profile, seed: '1', features: profileFeatures(profile), scripts: [], files });
}

describe.each(['bbb', 'host-vm'])('the file system of a run (%s)', (name) => {
  it('has the declared data files, and both workloads read the same one', () => {
    const r = io(name, { read: true, path: DATA.path }, [DATA]);
    expect(r.exit_status, r.stderr.join()).toBe(0);
    expect(r.target).toBe('file');
    const d = dd(name, { if: DATA.path }, [DATA]);
    expect(d.exitStatus, d.stderr.join()).toBe(0);
  });

  it('has no file nobody declared: io-static fails with FAIL: and exit 66, dd with its own message and 1', () => {
    const r = io(name, { read: true, path: '/nonexistent/dir/file' });
    expect(r.exit_status).toBe(66);
    expect(r.stderr).toEqual(['io-static: FAIL: /nonexistent/dir/file: No such file or directory']);
    expect(r.stdout).toEqual([]);
    expect(r.bandwidth_kib_s).toBe(0);
    const w = io(name, { write: true, path: DATA.path });
    expect(w.exit_status).toBe(66);
    const d = dd(name, { if: DATA.path });
    expect(d.exitStatus).toBe(1);
    expect(d.stderr.join()).toMatch(/'?\/lab\/data\.bin'?: No such file or directory/); // FreeBSD dd: path: ...; GNU dd: failed to open 'path': ...
  });

  it('reads past the end of a file as the real program does: a short read, FAIL: partial read, exit 74', () => {
    const r = io(name, { read: true, path: DATA.path, total: '4m' }, [DATA]);
    expect(r.exit_status).toBe(74);
    expect(r.stderr).toEqual(['io-static: FAIL: partial read']);
  });

  it('creates a file only in a directory that exists', () => {
    expect(io(name, { create: true, path: '/lab/new.bin' }, [DATA]).exit_status).toBe(0);
    expect(io(name, { create: true, path: '/nodir/new.bin' }, [DATA]).exit_status).toBe(66);
  });

  it('gives a later declaration of a path its size', () => {
    const files = mergeFiles([DATA], [{ path: DATA.path, bytes: 8 * MiB }]);
    expect(files).toEqual([{ path: DATA.path, bytes: 8 * MiB }]);
    expect(io(name, { read: true, path: DATA.path, total: '4m' }, files).exit_status).toBe(0);
  });
});

describe('declared files at boot', () => {
  it('are regular files of their size, their directories made; devices stay under /dev', () => {
    const profile = loadProfile('lecture');
    const k = bootKernel(profile, { seed: '1', features: new Set(), scripts: [], files: [DATA] });
    const vp = k.fs.lookup(DATA.path);
    expect(vp?.type === 'reg' && vp.size).toBe(DATA.bytes);
    expect(k.fs.lookup('/lab')?.type).toBe('dir');
    expect(k.fs.lookup('/dev/zero')?.type).toBe('chr');
    expect(k.fs.lookup('/lab/other')).toBeUndefined();
  });
});

describe('--file PATH:SIZE', () => {
  it('takes an absolute path outside the system directories and a dd-style size', () => {
    expect(parseFileDecl('--file', '/data/iofile:16m')).toEqual({ path: '/data/iofile', bytes: 16 * MiB });
    expect(parseFileDecl('--file', '/tmp/a:b:4k')).toEqual({ path: '/tmp/a:b', bytes: 4096 });
    for (const bad of ['/data/x', 'x:1k', '/usr/x:1k', '/dev/zero:1k', '/data/:1k', '/data/../etc/x:1k', '/data/x:1q', '/data/x:-1']) {
      expect(() => parseFileDecl('--file', bad), bad).toThrow(UsageError);
    }
  });

  it('on the command line: the same run, with and without the file', async () => {
    const missing = await cli(['workload', 'io-static', '-r', '-b', '64k', '-t', '1m', '/lab/data.bin']);
    expect(missing.code).toBe(66);
    expect(missing.out).toBe('');
    expect(missing.err).toBe('l41sim: io-static: the modelled io-static exited with status 66: io-static: FAIL: /lab/data.bin: No such file or directory\n');
    const given = await cli(['workload', 'io-static', '-r', '-b', '64k', '-t', '1m', '--file', '/lab/data.bin:1m', '/lab/data.bin']);
    expect(given.code, given.err).toBe(0);
    expect(given.out).toMatch(/^\d+\.\d\d KBytes\/sec\n$/);
    const dd = await cli(['workload', 'dd', '--bs', '64k', '--count', '2', '--trace', 'none', '--if', '/lab/data.bin', '--file', '/lab/data.bin:1m']);
    expect(dd.code, dd.err).toBe(0);
    const cmp = await cli(['compare', 'io-static', '-r', '-b', '64k', '-t', '1m', '--file', '/lab/data.bin:1m', '--enable', 'audit', '/lab/data.bin']);
    expect(cmp.code, cmp.err).toBe(0);
    const bad = await cli(['workload', 'dd', '--file', '/etc/x:1k']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^l41sim: --file: '\/etc\/x' is in \/etc, a directory of the modelled system; expected /);
  });
});

describe('a sweep config\'s "files"', () => {
  const base = { workload: 'io-static', profile: 'bbb', fixed: { mode: 'read', total: '1m', path: '/lab/data.bin' }, sweep: { buffer: [4096, 65536] } };

  it('declares data files on every point, as --file', () => {
    const config = validateSweepConfig({ ...base, files: ['/lab/data.bin:1m'] });
    expect(config.files).toEqual([{ path: '/lab/data.bin', bytes: MiB }]);
    const points = expandPoints(config, loadSweepProfiles(config), 'test');
    expect(points.every((p) => p.files.length === 1)).toBe(true);
    const outputs = runPoint(points[0]!, loadProfile('bbb'));
    expect(outputs.exit_status).toBe(0);
    // Without it the point runs and records the program's failure.
    const bare = validateSweepConfig(base);
    expect(bare.files).toEqual([]);
    expect(runPoint(expandPoints(bare, loadSweepProfiles(bare), 'test')[0]!, loadProfile('bbb')).exit_status).toBe(66);
  });

  it('refuses a bad declaration, naming its JSON path', () => {
    expect(() => validateSweepConfig({ ...base, files: ['/lab/data.bin'] })).toThrow(/^files\[0\]: '\/lab\/data\.bin' has no size/);
    expect(() => validateSweepConfig({ ...base, files: ['/var/x:1k'] })).toThrow(/^files\[0\]: '\/var\/x' is in \/var/);
    expect(() => validateSweepConfig({ ...base, files: ['/a:1k', '/a:2k'] })).toThrow(/^files\[1\]: \/a is declared twice/);
  });
});

describe("a profile's files", () => {
  it("every shipped profile has the lab's /data/iofile, 16 MiB; --file of the same path replaces it", () => {
    for (const name of ['lecture', 'bbb', 'host-vm']) {
      const profile = loadProfile(name);
      expect(profile.files?.map((f) => [f.path, f.bytes]), name).toEqual([['/data/iofile', 16 * MiB]]);
      const k = bootKernel(profile, { seed: '1', features: new Set(), scripts: [], files: [{ path: '/data/iofile', bytes: MiB }] });
      const vp = k.fs.lookup('/data/iofile');
      expect(vp?.type === 'reg' && vp.size, name).toBe(MiB);
    }
  });

  it('a file a run never touches changes nothing it prints', () => {
    const profile = loadProfile('lecture');
    const plain = dd('lecture', {});
    const withFile = runDd(parseOperands({ bs: '64k', count: '4' }, profile.userland.dd), { profile, seed: '1', features: profileFeatures(profile), scripts: [], files: [{ path: '/lab/unused.bin', bytes: 64 * MiB }] });
    expect(withFile.endPs - withFile.startPs).toBe(plain.endPs - plain.startPs);
    expect(withFile.syscalls).toEqual(plain.syscalls);
  });

  it('are checked as --file is', () => {
    const raw = JSON.parse(JSON.stringify(loadProfile('bbb')));
    raw.files = [{ path: '/etc/iofile', bytes: 1024 }];
    expect(() => validateProfile(raw, 'bbb')).toThrow(/files\[0\]\.path: '\/etc\/iofile' is in \/etc/);
  });
});
