// The declared documents: what a declaration gives (defaults, key order, the form of
// a value, the path of the first fault) and the listing made from the profile schema.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COSTS, costsFor, type CostName } from '../src/costmodel/costs.js';
import { profileHash, validateProfile } from '../src/costmodel/profile.js';
import { profileEntries } from '../src/costmodel/profile-schema.js';
import { repoPath } from '../src/costmodel/repo.js';
import { ValidationError } from '../src/errors.js';
import { anyOf, list, number, section, text, validate } from '../src/schema.js';
import { cli } from './helpers/cli.js';

const raw = (name: string) => JSON.parse(readFileSync(repoPath('calibration', `${name}.json`), 'utf8')) as Record<string, any>;

function fault(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('the schema constructors', () => {
  const doc = section({ size: anyOf([number({ integer: true, min: 1 }), text().transform((s) => s.length)], 'a size', 'a number or a word'), tags: list(text()).default(() => []), note: text().optional() });

  it('give defaults, drop absent optional keys, and keep the declared key order', () => {
    expect(JSON.stringify(validate(doc, { note: 'n', size: 3 }, 'd'))).toBe('{"size":3,"tags":[],"note":"n"}');
    expect(validate(doc, { size: 'four' }, 'd')).toEqual({ size: 4, tags: [] });
  });

  it('report the first fault at its JSON path, in the project form', () => {
    expect(fault(() => validate(doc, { size: 0 }, 'd'))).toBe('d.size: 0 is out of range; expected an integer >= 1');
    expect(fault(() => validate(doc, { size: true }, 'd'))).toBe('d.size: true is not a size; expected a number or a word');
    expect(fault(() => validate(doc, { size: 1, tags: ['a', ''] }, 'd'))).toBe('d.tags[1]: "" is not a non-empty string; expected a string');
    expect(fault(() => validate(doc, [], 'd'))).toBe('d: [] is not an object; expected a JSON object');
  });

  it('report a misspelt key as unknown, not the key it meant as missing', () => {
    expect(fault(() => validate(doc, { sise: 1 }, 'd'))).toBe('d.sise: unknown key; expected one of size, tags, note');
    expect(fault(() => validate(doc, JSON.parse('{"size": 1, "constructor": 2}'), 'd'))).toBe('d.constructor: unknown key; expected one of size, tags, note');
  });
});

describe('the profile schema', () => {
  it('fills a parameter with a default as an assumption that says why', () => {
    const p = raw('bbb');
    delete p.machine.first_touch_ns;
    delete p.userland.junk_fill;
    const v = validateProfile(p, 'bbb');
    expect(v.machine.first_touch_ns).toEqual({ value: 0, unit: 'ns', source: 'assumed', note: 'default: bare metal: no hypervisor behind the page' });
    expect(v.userland.junk_fill).toBe(false);
  });

  it('gives a parameter its keys in declared order, whatever the file says (the profile hash depends on it)', () => {
    const p = raw('lecture');
    const hash = profileHash(validateProfile(p, 'lecture'));
    const c = p.machine.clock_hz as Record<string, unknown>;
    p.machine.clock_hz = Object.fromEntries(Object.entries(c).reverse());
    expect(profileHash(validateProfile(p, 'lecture'))).toBe(hash);
  });

  it("takes a fitted parameter's standard error, and refuses a negative one at its path", () => {
    const p = raw('lecture');
    p.costs.syscall_entry = { ...p.costs.syscall_entry, source: 'fitted', from: 'a fit', stderr: 3.5 };
    expect(validateProfile(p, 'lecture').costs.syscall_entry.stderr).toBe(3.5);
    p.costs.syscall_entry.stderr = -1;
    expect(fault(() => validateProfile(p, 'lecture'))).toBe('lecture.costs.syscall_entry.stderr: -1 is out of range; expected a number >= 0');
  });

  it('takes a host fingerprint, checked field by field', () => {
    const p = raw('host-vm');
    p.fingerprint = { ...p.fingerprint, cpu: { vendor: 'AuthenticAMD', family: 25, model: 1, stepping: 1, microcode: '0xa0011d1', name: 'AMD EPYC' }, signature: { null_syscall_ns: 80, page_fault_ns: 900 } };
    expect(validateProfile(p, 'h').fingerprint?.signature?.null_syscall_ns).toBe(80);
    p.fingerprint.cpu.family = '25';
    expect(fault(() => validateProfile(p, 'h'))).toBe('h.fingerprint.cpu.family: "25" is not a finite number; expected an integer >= 0');
  });

  it('lists every parameter of a profile with its declaration', () => {
    for (const name of ['lecture', 'bbb', 'host-vm']) {
      const doc = raw(name);
      // Counted from the file itself: every object with a unit and a source is a parameter.
      const inFile = (v: unknown): number =>
        Array.isArray(v) ? v.reduce((n: number, x) => n + inFile(x), 0) : v && typeof v === 'object' ? ('unit' in v && 'source' in v ? 1 : Object.values(v).reduce((n: number, x) => n + inFile(x), 0)) : 0;
      const entries = profileEntries(validateProfile(doc, name));
      const params = entries.filter((e) => e.param);
      expect(params).toHaveLength(inFile(doc));
      for (const e of params) {
        expect(e.doc.length, e.path).toBeGreaterThan(10);
        expect(e.param!.value.unit, e.path).toBe(e.param!.meta.unit);
      }
      expect(entries.find((e) => e.path === 'machine.isa')?.setting).toBe(doc.machine.isa);
    }
  });

  it('declares every unit cost with the unit and meaning of the COSTS table', () => {
    const costs = profileEntries(validateProfile(raw('lecture'), 'lecture')).filter((e) => e.path.startsWith('costs.'));
    expect(costs).toHaveLength(costsFor('freebsd').length);
    for (const e of costs) {
      const decl = COSTS[e.path.slice('costs.'.length) as CostName];
      expect(e.param!.meta).toMatchObject({ unit: decl.unit, doc: decl.doc, range: { min: 0, max: 1e9 } });
    }
  });
});

describe('l41sim profiles --params', () => {
  it('prints a line per parameter and setting: path, value and unit, source, description', async () => {
    const r = await cli(['profiles', '--params', 'lecture']);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^lecture: 73 parameters \(5 published, 9 fitted, 59 assumed\) and \d+ settings$/);
    expect(lines).toContainEqual(expect.stringMatching(/^machine\.clock_hz +2500000000 hz +assumed +core clock/));
    expect(lines).toContainEqual(expect.stringMatching(/^costs\.syscall_entry +\d+(\.\d+)? cycles +\w+ +MD system-call entry/));
  });

  it('with --verbose, says where each value came from', async () => {
    const r = await cli(['profiles', '--params', 'lecture', '--verbose']);
    expect(r.out).toMatch(/^machine\.clock_hz .*\n +note: not stated; a typical 2015 x86-64 server clock$/m);
  });

  it('refuses an unknown profile naming --params', async () => {
    const r = await cli(['profiles', '--params', 'vax']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^l41sim: --params: no profile named 'vax'; expected one of .*lecture/);
  });
});

describe('l41sim sweep --help', () => {
  it("lists the config's keys and the workloads' parameters from their declarations, with defaults", async () => {
    const r = await cli(['sweep', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^  max_events +most simulated events per point, as --max-events \(default 50000000\)$/m);
    expect(r.out).toMatch(/^  outputs\.plot\.log_y +a log y axis; "auto" .*\(default "auto"\)$/m);
    expect(r.out).toMatch(/^    buffer +size: buffer size in bytes \(-b\) \(default 16384\)$/m);
  });
});
