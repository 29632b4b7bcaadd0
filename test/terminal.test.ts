// Progress bars on a worker thread: its own stderr is a pipe, so the main thread's view
// of stderr is what counts, passed in through ThreadData and read back here. The end to
// end case (a bar drawn by `calibrate host --check` on a terminal) needs a pty; this
// checks the hand-over itself, in a real worker.

import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { stderrTerminal } from '../src/cli/terminal.js';

describe('stderrTerminal', () => {
  it("is this thread's own stderr until told otherwise", () => {
    expect(stderrTerminal()).toEqual({ isTTY: process.stderr.isTTY === true, columns: process.stderr.columns });
  });

  it("on a worker, what the main thread passed, not the worker's pipe", async () => {
    // The compiled module (npm ci builds dist/): a worker loads plain JavaScript.
    const url = new URL('../dist/src/cli/terminal.js', import.meta.url).href;
    const code = `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(url)}).then((m) => {
        const before = { isTTY: process.stderr.isTTY === true, columns: process.stderr.columns };
        m.setMainThreadStderr({ isTTY: true, columns: 123 });
        parentPort.postMessage({ before, after: m.stderrTerminal() });
      }, (e) => parentPort.postMessage({ error: String(e) }));`;
    const worker = new Worker(code, { eval: true });
    const reply = await new Promise<any>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    if (reply.error) throw new Error(reply.error);
    expect(reply.before.isTTY).toBe(false); // a worker's stderr is never a terminal
    expect(reply.after).toEqual({ isTTY: true, columns: 123 });
  });
});
