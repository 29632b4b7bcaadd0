// A re-armable one-shot timer: the engine's way to say "run this at that time,
// unless I change my mind first". A CPU's event timer is one (kernel/cpu.ts).
import { MAX_SIM_TIME, type SimTime } from './time.js';
import type { Simulation } from './simulation.js';

/**
 * Runs `callback` as an event at the time it was last armed for. Arming again moves
 * it; cancel() disarms it. A superseded arming is forgotten lazily: its event still
 * leaves the queue at its old time and does nothing (so re-arming costs one queue
 * insertion and never a search of the queue).
 */
export class Timer {
  /** The name used in error messages. */
  readonly name: string;
  private readonly _sim: Simulation;
  private readonly _callback: () => void;
  // Each arming gets the next generation; an event whose generation is not the
  // current one is stale.
  private _generation = 0;
  private _at: SimTime | undefined = undefined;

  /** Creates a disarmed timer in `sim`. Throws TypeError if `callback` is not a function. */
  constructor(sim: Simulation, callback: () => void, name = 'timer') {
    if (typeof callback !== 'function') throw new TypeError(`Timer "${name}": callback must be a function`);
    this._sim = sim;
    this._callback = callback;
    this.name = name;
  }

  /** The time it is armed for, or undefined if disarmed (never armed, fired, or cancelled). */
  get armedAt(): SimTime | undefined {
    return this._at;
  }

  /**
   * Arms it for the absolute time `time` (replacing any earlier arming); the callback
   * runs then, after events already queued for that time. Throws RangeError unless
   * `time` is an integer in now..MAX_SIM_TIME.
   */
  arm(time: SimTime): void {
    const sim = this._sim;
    if (!Number.isInteger(time) || time < sim.now || time > MAX_SIM_TIME) {
      throw new RangeError(`Timer "${this.name}": time must be an integer number of ps in ${sim.now}..${MAX_SIM_TIME}, got ${time}`);
    }
    const generation = ++this._generation;
    this._at = time;
    sim.schedule(time - sim.now, () => {
      if (generation !== this._generation) return;
      this._at = undefined;
      this._callback();
    });
  }

  /** Disarms it (a no-op if it is not armed). Never throws. */
  cancel(): void {
    this._generation++;
    this._at = undefined;
  }
}
