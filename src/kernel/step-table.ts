// What each top-level step of a kernel path is, declared once per kernel flavour
// (./freebsd/steps.ts, ./linux/steps.ts) and read by the path code (whose step
// names are checked against it), the step ledger (which refuses a step no table
// declares), the hooks each flavour accepts (./hooks.ts), compare and the
// fast-path report.

import type { KernelFlavour } from '../costmodel/costs.js';
import type { Feature } from './features.js';
import type { Thread } from './proc.js';

/**
 * The kinds of step: the machine-dependent entry or exit, a guard (a load and a
 * branch on a hook's flag word, and the hook's work when the flag is set), the
 * call's or the fault's body, and the path's other, unconditional work (argument
 * fetch, return value, thread enter/exit, the scheduler's priority check, the
 * debug kernels' assertions, code fetched between steps).
 */
export type StepKind = 'entry/exit' | 'guard' | 'body' | 'other';

export const STEP_KINDS: readonly StepKind[] = ['entry/exit', 'guard', 'body', 'other'];

export interface StepDecl {
  readonly kind: StepKind;
  /** One line: what the step does, in the C's names. */
  readonly does: string;
  /** For a guard: the word (or words) its test loads, and the hook it tests for, as the reports name it. */
  readonly guard?: { readonly word: string; readonly hook: string };
  /** The run's features (hooks and kernel options) that add work to this step when they are on. */
  readonly features?: readonly Feature[];
}

/** Kernel.step with the step names of one flavour's table: a path takes no step its table does not declare. */
export type TakeStep<N extends string> = (td: Thread, name: N, body: () => void) => void;

/** Name of the pseudo-step that covers a span's time outside its top-level steps. */
export const OUTSIDE_STEPS = '(outside steps)';

const OUTSIDE_DECL: StepDecl = { kind: 'other', does: 'not in any step: code fetched between the steps, outside every function that has a step of its own' };

/** A step no table declares: a path took a step that the reports could not classify. */
export class UnknownStepError extends Error {
  constructor(kernel: KernelFlavour, step: string) {
    super(`the ${kernel} kernel path took a step '${step}' that its step table (src/kernel/${kernel}/steps.ts) does not declare`);
  }
}

/** One kernel flavour's steps, in path order. */
export class StepTable<N extends string = string> {
  private readonly decls: ReadonlyMap<string, StepDecl>;

  constructor(
    readonly kernel: KernelFlavour,
    steps: Readonly<Record<N, StepDecl>>,
  ) {
    this.decls = new Map(Object.entries<StepDecl>(steps));
    for (const [name, d] of this.decls) {
      if ((d.kind === 'guard') !== (d.guard !== undefined)) throw new Error(`${kernel} step ${name}: a guard step, and only a guard step, names its guard word and hook`);
    }
  }

  has(step: string): boolean {
    return this.decls.has(step) || step === OUTSIDE_STEPS;
  }

  /** The declaration of `step` (OUTSIDE_STEPS included); throws UnknownStepError for a name the table does not declare. */
  get(step: string): StepDecl {
    const d = this.decls.get(step) ?? (step === OUTSIDE_STEPS ? OUTSIDE_DECL : undefined);
    if (!d) throw new UnknownStepError(this.kernel, step);
    return d;
  }

  /** Every declared step name, in path order. */
  names(): N[] {
    return [...this.decls.keys()] as N[];
  }

  /** The guarded steps, in path order: step name -> the hook it tests for. */
  guarded(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, d] of this.decls) if (d.guard) out[name] = d.guard.hook;
    return out;
  }

  /** Every feature some step of this path responds to: the hooks and options this flavour models. */
  features(): Set<Feature> {
    const out = new Set<Feature>();
    for (const d of this.decls.values()) for (const f of d.features ?? []) out.add(f);
    return out;
  }
}
