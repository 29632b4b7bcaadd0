// Children's rusage through python3's os.posix_spawnp and os.wait4: ru_utime +
// ru_stime is precise to the µs on Linux (cputime_adjust scales sum_exec_runtime; only
// the split is tick-sampled) and ru_minflt is exact. It covers the whole child: the
// pre-exec part of the spawn and the whole execve, so it reads a little higher than
// perf's task-clock.

import { runPythonJson } from './python.js';

export interface Wait4Run {
  /** The child's exit status (-1 when it did not exit normally). */
  status: number;
  user_ns: number;
  sys_ns: number;
  minflt: number;
}

const WAIT4_SCRIPT = `
import json, os, sys
cmds = json.loads(sys.argv[1]); repeats = int(sys.argv[2])
devnull = os.open(os.devnull, os.O_WRONLY)
out = [[] for _ in cmds]
for r in range(repeats + 1):
    for i, argv in enumerate(cmds):
        pid = os.posix_spawnp(argv[0], argv, dict(os.environ), file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
        _, status, ru = os.wait4(pid, 0)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
        if r > 0: out[i].append({"status": code, "user_ns": round(ru.ru_utime * 1e9), "sys_ns": round(ru.ru_stime * 1e9), "minflt": ru.ru_minflt})
print(json.dumps(out))
`;

/** Run each command `repeats` times, round-robin, after one unrecorded warm-up round; the runs per command. Throws an Error when python3 fails. */
export function wait4Runs(cmds: readonly (readonly string[])[], repeats: number): Wait4Run[][] {
  return runPythonJson<Wait4Run[][]>(WAIT4_SCRIPT, [JSON.stringify(cmds), String(repeats)], 300_000);
}
