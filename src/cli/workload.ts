// `l41sim workload ...`: run one modelled program and print what time(1) and DTrace
// would print on the modelled machine.

import type { Command } from 'commander';
import { registerDd } from './workload-dd.js';
import { registerFastpath } from './workload-fastpath.js';
import { registerIoStatic } from './workload-io-static.js';

export function register(program: Command): void {
  const workload = program
    .command('workload')
    .description('run a modelled program (dd, io-static) and print time(1) and DTrace output');
  registerDd(workload);
  registerIoStatic(workload);
  registerFastpath(workload);
}
