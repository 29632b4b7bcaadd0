// Prints the model's side of cold-write.c next to the recorded measurement:
//   node calibration/probes/cold-write-model.mjs [profile]   (default host-vm; needs `npm run build` or `npm ci`)
import { readFileSync } from 'node:fs';
import { loadProfile } from '../../dist/src/costmodel/profile.js';
import { measuredColdWrites, modelledColdWrites } from '../../dist/src/workloads/calibrate/cold-write.js';

const name = process.argv[2] ?? 'host-vm';
const data = JSON.parse(readFileSync(new URL('../data/host-vm-cold-write.json', import.meta.url), 'utf8'));
const measured = measuredColdWrites(data);
const rows = modelledColdWrites(loadProfile(name), [...measured.keys()].filter((b) => b <= 64 << 20));
console.log(`| copy | write after it: measured (host vm) | modelled (${name}) | penalty: measured | modelled |`);
console.log('|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const m = measured.get(r.copy_bytes);
  console.log(`| ${r.copy_bytes / 1024} KiB | ${m.write_after_copy_ns} ns | ${Math.round(r.write_after_copy_ns)} ns | ${m.penalty_ns} ns | ${Math.round(r.penalty_ns)} ns |`);
}
