// Prints the model's side of cold-write.c next to the recorded measurement, for each call:
//   node calibration/probes/cold-write-model.mjs [profile]   (default host-vm; needs `npm run build` or `npm ci`)
import { readFileSync } from 'node:fs';
import { loadProfile } from '../../dist/src/costmodel/profile.js';
import { COLD_CALLS } from '../../dist/src/host/cold-write.js';
import { measuredColdCalls, modelledColdCalls } from '../../dist/src/workloads/calibrate/cold-write.js';

const name = process.argv[2] ?? 'host-vm';
const profile = loadProfile(name);
const data = JSON.parse(readFileSync(new URL('../data/host-vm-cold-write.json', import.meta.url), 'utf8'));
const label = (b) => (b >= 1 << 20 ? `${b / (1 << 20)} MiB` : `${b / 1024} KiB`);
for (const call of COLD_CALLS) {
  const measured = measuredColdCalls(data, call);
  // Beyond 64 MiB the model's penalty no longer changes (its caches are long gone) and each
  // size costs seconds of model time, so larger copies are measured only.
  const sizes = [...measured.keys()];
  const rows = modelledColdCalls(profile, call, sizes.filter((b) => b <= 64 << 20));
  console.log(`\n${call}: | copy | after it: measured (host vm) | modelled (${name}) | penalty: measured | modelled |`);
  console.log('|---:|---:|---:|---:|---:|');
  for (const b of sizes) {
    const m = measured.get(b);
    const r = rows.find((x) => x.copy_bytes === b);
    const model = r ? [`${Math.round(r.call_after_copy_ns)} ns`, `${Math.round(r.penalty_ns)} ns`] : ['(not modelled)', '(not modelled)'];
    console.log(`| ${label(b)} | ${Math.round(m.call_after_copy_ns)} ns | ${model[0]} | ${Math.round(m.penalty_ns)} ns | ${model[1]} |`);
  }
}
