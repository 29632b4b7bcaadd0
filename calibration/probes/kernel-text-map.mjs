// What a host profile's kernel text map holds, and what it does to the host fit:
//   node calibration/probes/kernel-text-map.mjs [profile] [measurements.json]
// (defaults: calibration/host-vm.json and calibration/data/host-vm-measurements.json;
// needs `npm run build` or `npm ci`). Refits the measurements twice, with a map (theirs,
// or the profile's if they have none, as files from before maps do) and without, and
// prints each fit's relative RMS and held-out error. The 00:46 measurements of
// calibration/REPORT.md: `git show ffd5f09:calibration/data/host-vm-measurements.json`.
import { readFileSync } from 'node:fs';
import { fitHostProfile } from '../../dist/src/workloads/calibrate/host/fit.js';

const root = new URL('../../', import.meta.url);
const profile = JSON.parse(readFileSync(new URL(process.argv[2] ?? 'calibration/host-vm.json', root), 'utf8'));
const map = profile.kernel_text;
if (!map) {
  console.log('no kernel text map in this profile');
} else {
  const lines = Object.values(map.functions).map(([, bytes]) => Math.ceil(bytes / 64));
  const hot = lines.map((n) => Math.max(1, Math.round(n * map.hot_fraction.value)));
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  console.log(`${lines.length} functions; ${sum(lines)} lines at their full size, ${sum(hot)} fetched at hot fraction ${map.hot_fraction.value}`);
  console.log(`from ${map.from}`);
}

const data = JSON.parse(readFileSync(new URL(process.argv[3] ?? 'calibration/data/host-vm-measurements.json', root), 'utf8'));
if (!data.kernel_text?.functions && map) data.kernel_text = { from: map.from, functions: map.functions, missing: [], skipped: {} };
if (!data.kernel_text?.functions) {
  console.log('neither the measurements nor the profile have a kernel text map to compare with');
} else {
  for (const [label, d] of [['with the map', data], ['without a map', { ...data, kernel_text: { skipped: 'comparison' } }]]) {
    const { report } = fitHostProfile(d);
    console.log(`${label.padEnd(14)} relative RMS ${(100 * report.fittedRms).toFixed(1)}%, held-out reads median |error| ${(100 * report.heldOutMedianAbsError).toFixed(1)}%`);
  }
}
