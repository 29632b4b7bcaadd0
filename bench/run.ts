// `npm run bench`: runs every compiled bench/*.bench.js module in name order.
// Each module's default export is an async function that prints its own figures.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => !only || f.startsWith(only))
  .sort();
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: () => Promise<void> | void };
  console.log(`\n== ${file.replace(/\.bench\.js$/, '')} ==`);
  await mod.default();
}
