// The subcommands, each with the module that registers it, loaded only when a
// command line needs it: `l41sim workload dd` loads the workload commands and what
// they run, not calibration, sweeps or plotting, so the first simulated event comes
// sooner. A command line that names no known command (help, an unknown or
// misspelt command) loads them all, for the help and the error to list them.

import type { Command } from 'commander';

/** A module's way of adding its commands to the program. */
export type Register = (program: Command) => void;

/** The top-level commands in the order `--help` lists them, with the modules that register them. */
const COMMANDS: ReadonlyArray<readonly [name: string, load: () => Promise<{ register: Register }>]> = [
  ['workload', () => import('./workload.js')],
  ['sweep', () => import('./sweep.js')],
  ['compare', () => import('./compare.js')],
  ['calibrate', () => import('./calibrate.js')],
  ['calibrate', () => import('./calibrate-host.js')],
  ['profiles', () => import('./profiles.js')],
];

/** Every command's register function, in help order. */
export async function allRegisters(): Promise<Register[]> {
  return Promise.all(COMMANDS.map(async ([, load]) => (await load()).register));
}

/** The register functions a command line needs: its command's, if it names one as its first word, else all. */
export async function registersFor(args: readonly string[]): Promise<Register[]> {
  const first = args.find((a) => !a.startsWith('-'));
  const named = COMMANDS.filter(([name]) => name === first);
  if (named.length === 0) return allRegisters();
  return Promise.all(named.map(async ([, load]) => (await load()).register));
}
