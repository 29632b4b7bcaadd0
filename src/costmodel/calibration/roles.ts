// The rows of a calibration and their roles, declared next to the data before any fit:
// calibration/data/NAME.roles.json beside calibration/data/NAME.json. The data file stays
// as it was measured or copied (a copy of ../shared/data keeps its bytes: the roles file
// records the copy's origin and SHA-256, and loading refuses a data file that no longer
// matches). A role changes only in a data-only commit that says why.
//
// NAME.roles.json:
//   { "what": "...", "data": "NAME.json", "copy_of": "shared/data/NAME.json" (optional),
//     "sha256": "<of NAME.json>",
//     "rows": [ { "id": "...", "path": ["key", 0, "key"] | "sum": [[...], [...]],
//                 "sd_path": [...] (optional), "unit": "ns", "role": "fit" | "validate",
//                 "reason": "why this role, not from the model's error" } ] }
// A path leads to a number, or to a text whose first number (commas allowed) is the value.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Role, Row } from './protocol.js';
import { ProtocolError } from './protocol.js';

type PathStep = string | number;

export interface DeclaredRow {
  id: string;
  path?: PathStep[];
  sum?: PathStep[][];
  sd_path?: PathStep[];
  unit: string;
  role: Role;
  reason: string;
}

export interface RolesFile {
  what: string;
  data: string;
  copy_of?: string;
  sha256: string;
  rows: DeclaredRow[];
}

export interface DeclaredData {
  /** The data file's parsed contents. */
  data: any;
  rows: Row[];
  roles: RolesFile;
  rolesPath: string;
}

/** The roles file that goes with a data file. */
export function rolesPathFor(dataPath: string): string {
  return join(dirname(dataPath), basename(dataPath).replace(/\.json$/, '.roles.json'));
}

export function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Read a data file and its roles file; every declared row resolved to its measured value. */
export function loadDeclaredRows(dataPath: string): DeclaredData {
  const rolesPath = rolesPathFor(dataPath);
  const roles = JSON.parse(readFileSync(rolesPath, 'utf8')) as RolesFile;
  const where = basename(rolesPath);
  if (roles.data !== basename(dataPath)) throw new ProtocolError(`${where}: declares rows of '${roles.data}', not '${basename(dataPath)}'`);
  const digest = sha256Of(dataPath);
  if (roles.sha256 !== digest) {
    throw new ProtocolError(`${where}: ${basename(dataPath)} has SHA-256 ${digest}, not the ${roles.sha256} its roles were declared for; declare the roles again (a data-only commit)`);
  }
  const data = JSON.parse(readFileSync(dataPath, 'utf8'));
  const rows = roles.rows.map((d): Row => {
    if (d.role !== 'fit' && d.role !== 'validate') throw new ProtocolError(`${where}: row '${d.id}' has role '${String(d.role)}'; expected fit or validate`);
    if (typeof d.reason !== 'string' || d.reason.trim() === '') throw new ProtocolError(`${where}: row '${d.id}' has no reason for its role`);
    const paths = d.sum ?? (d.path ? [d.path] : []);
    if (paths.length === 0) throw new ProtocolError(`${where}: row '${d.id}' has neither path nor sum`);
    const measured = paths.reduce((a, p) => a + valueAt(data, p, `${where}: row '${d.id}'`), 0);
    const row: Row = { id: d.id, measured, unit: d.unit, role: d.role, reason: d.reason };
    if (d.sd_path) row.sd = valueAt(data, d.sd_path, `${where}: row '${d.id}' sd`);
    return row;
  });
  return { data, rows, roles, rolesPath };
}

/** The number at `path` in `data`: a number, or the first number in a text ("about 170,000"). */
export function valueAt(data: unknown, path: PathStep[], what: string): number {
  let v: any = data;
  for (const step of path) {
    if (v === null || typeof v !== 'object' || !(step in v)) throw new ProtocolError(`${what}: no ${JSON.stringify(path)} in the data`);
    v = v[step];
  }
  if (typeof v === 'string') {
    const m = /-?\d[\d,]*(\.\d+)?/.exec(v);
    if (m) v = Number(m[0].replace(/,/g, ''));
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ProtocolError(`${what}: ${JSON.stringify(path)} is not a number`);
  return v;
}
