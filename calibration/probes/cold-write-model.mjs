// Prints the model's side of cold-write.c next to the recorded measurement:
//   node calibration/probes/cold-write-model.mjs [profile]   (default host-vm; needs `npm run build` or `npm ci`)
import { readFileSync } from 'node:fs';
import { loadProfile } from '../../dist/src/costmodel/profile.js';
import { measuredColdWrites, modelledColdWrites } from '../../dist/src/workloads/calibrate/cold-write.js';

const name = process.argv[2] ?? 'host-vm';
const data = JSON.parse(readFileSync(new URL('../data/host-vm-cold-write.json', import.meta.url), 'utf8'));
const measured = measuredColdWrites(data);
// Beyond 64 MiB the model's penalty no longer changes (its caches are long gone) and each
// size costs seconds of model time, so larger copies are measured only.
const sizes = [...measured.keys()];
const rows = modelledColdWrites(loadProfile(name), sizes.filter((b) => b <= 64 << 20));
const label = (b) => (b >= 1 << 20 ? `${b / (1 << 20)} MiB` : `${b / 1024} KiB`);
console.log(`| copy | write after it: measured (host vm) | modelled (${name}) | penalty: measured | modelled |`);
console.log('|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const m = measured.get(r.copy_bytes);
  console.log(`| ${label(r.copy_bytes)} | ${m.write_after_copy_ns} ns | ${Math.round(r.write_after_copy_ns)} ns | ${m.penalty_ns} ns | ${Math.round(r.penalty_ns)} ns |`);
}
for (const b of sizes.filter((b) => b > 64 << 20)) {
  const m = measured.get(b);
  console.log(`| ${label(b)} | ${m.write_after_copy_ns} ns | (not modelled) | ${m.penalty_ns} ns | (not modelled) |`);
}
