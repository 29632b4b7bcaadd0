// python3, as a tool for what Node cannot do itself: wait4(2) on a child (Node's
// spawnSync returns no rusage) and timing one munmap(2) of a populated region.

import { spawnSync } from 'node:child_process';
import { firstLine, lastLine } from './error.js';

/** Run a python3 script with arguments and parse the JSON it prints; an Error with python's last line when it fails. */
export function runPythonJson<T>(script: string, args: readonly string[], timeoutMs: number): T {
  const r = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20 });
  if (r.error) throw new Error(`python3: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`python3 exited ${r.status ?? r.signal}: ${lastLine(r.stderr) || 'no message'}`);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`python3 printed no JSON: ${firstLine(r.stdout) || '(nothing)'}`);
  }
}
