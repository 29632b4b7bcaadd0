// The sweep's worker-thread entry (loaded by tinypool from dist/): runs one point
// and returns its output figures.

import type { Profile } from '../../costmodel/profile.js';
import type { SweepPoint } from './config.js';
import { runPoint } from './point.js';
import type { Outputs } from './workloads.js';

export interface PointTask {
  point: SweepPoint;
  profile: Profile;
  exact: boolean;
}

export default function runTask(task: PointTask): Outputs {
  return runPoint(task.point, task.profile, task.exact);
}
