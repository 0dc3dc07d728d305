// SPDX-License-Identifier: MIT
import { readdirSync, readFileSync } from 'node:fs';

/** CPU time of every thread of a process, in ns (schedstat is ns-precise; tick-sampled utime is not). */
export function cpuNs(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return total;
}
