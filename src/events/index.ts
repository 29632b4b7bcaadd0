// The discrete-event engine: virtual time, seeded randomness, the simulation and its
// processes, and the synchronisation primitives built on Waitable.
export {
  MAX_SIM_TIME,
  PS_PER_MS,
  PS_PER_NS,
  PS_PER_S,
  PS_PER_US,
  SimTimeOverflowError,
  checkedAdd,
  cyclesToPs,
  formatTime,
  type SimTime,
} from './time.js';
export { deriveRng, exponential, type Rng } from './rng.js';
export {
  DEFAULT_MAX_EVENTS,
  Process,
  ProcessError,
  Simulation,
  SimulationBoundError,
  Waitable,
  type SimulationOptions,
  type Yieldable,
} from './simulation.js';
export { Signal } from './signal.js';
export { Channel } from './channel.js';
export { Resource } from './resource.js';
export { Timer } from './timer.js';
