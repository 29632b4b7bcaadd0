// A sweep's results: one row per point, as CSV and as JSON, and the journal that
// lets an interrupted sweep resume. The journal (`.<name>.journal.jsonl` next to the
// results) gets one complete line per finished point, appended as the point
// finishes, in a single write; a line torn by a crash fails to parse and is
// ignored, so at worst that one point runs again. The results files are written
// once, atomically, when every point is done; then the journal is removed.

import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';
import type { Row } from './point.js';

export interface ResultsDocument {
  l41sim_sweep: 1;
  name: string;
  description: string;
  workload: string;
  l41sim_version: string;
  columns: string[];
  rows: Row[];
}

export interface OutputPaths {
  csv: string;
  json: string;
  svg: string;
  png: string;
  journal: string;
}

export function outputPaths(dir: string, name: string): OutputPaths {
  return {
    csv: join(dir, `${name}.csv`),
    json: join(dir, `${name}.json`),
    svg: join(dir, `${name}.svg`),
    png: join(dir, `${name}.png`),
    journal: join(dir, `.${name}.journal.jsonl`),
  };
}

/** Columns of a set of rows, in first-seen order. */
export function columnsOf(rows: readonly Row[]): string[] {
  const cols: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) if (!seen.has(k)) seen.add(k), cols.push(k);
  return cols;
}

function csvField(v: string | number | boolean | undefined): string {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: readonly Row[], columns = columnsOf(rows)): string {
  const lines = [columns.map(csvField).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvField(r[c])).join(','));
  return `${lines.join('\n')}\n`;
}

export function resultsDocument(meta: { name: string; description: string; workload: string; version: string }, rows: Row[]): ResultsDocument {
  return { l41sim_sweep: 1, name: meta.name, description: meta.description, workload: meta.workload, l41sim_version: meta.version, columns: columnsOf(rows), rows };
}

/** Finished rows from an earlier run: the results JSON (if it is one) and the journal, by point key. */
export function loadFinished(paths: OutputPaths): Map<string, Row> {
  const done = new Map<string, Row>();
  if (existsSync(paths.json)) {
    try {
      const doc = JSON.parse(readFileSync(paths.json, 'utf8')) as Partial<ResultsDocument>;
      if (doc.l41sim_sweep === 1 && Array.isArray(doc.rows)) {
        for (const r of doc.rows) if (r && typeof r === 'object' && typeof r.key === 'string') done.set(r.key, r);
      }
    } catch {
      // not ours or unreadable: it will be replaced
    }
  }
  if (existsSync(paths.journal)) {
    for (const line of readFileSync(paths.journal, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        const entry = JSON.parse(line) as { key?: unknown; row?: Row };
        if (typeof entry.key === 'string' && entry.row && typeof entry.row === 'object') done.set(entry.key, entry.row);
      } catch {
        // a line torn by a crash: that point runs again
      }
    }
  }
  return done;
}

/** Append-only journal of finished points. */
export class Journal {
  private fd: number | undefined;
  private lastSync = Date.now();

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  /** Record one finished point: one line, one write. */
  add(key: string, row: Row): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, `${JSON.stringify({ key, row })}\n`);
    if (Date.now() - this.lastSync > 1000) {
      fsyncSync(this.fd);
      this.lastSync = Date.now();
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  remove(): void {
    this.close();
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}
