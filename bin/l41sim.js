#!/usr/bin/env node
// The compiled CLI lives in dist/ (built by `npm ci`/`npm install` through the
// package's "prepare" script), so `npx l41sim` needs no separate build step.
import('../dist/src/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli/main.js')) {
    console.error('l41sim: the compiled CLI is missing; run `npm install` (or `npm run build`) first');
    process.exit(1);
  }
  throw err;
});
