// runPod's checks of what the settings and the process allow, made in its
// first step, before anything exists (the pod config's own checks are in
// podconfig.ts).

import type {PodSandboxConfig} from '../cri/types.js'
import {cgroupParentProblem, podCgroupsPath} from './cgroups.js'
import {messageOf, type PodctlError, usageError} from './errors.js'
import type {Settings} from './settings.js'

/** The cgroup-parent setting, for a pod whose config names no parent; a bad slice is said with the setting's name. */
export function checkedCgroupParent(settings: Settings): string {
  try {
    const problem = cgroupParentProblem(settings.cgroupParent)
    if (problem) throw usageError(problem)
    podCgroupsPath(settings.cgroupParent, '0')
  } catch (err) {
    throw usageError(`the cgroup-parent setting${settings.configFile ? ` (config file "${settings.configFile}")` : ''}: ${messageOf(err)}`, (err as PodctlError).hint)
  }
  return settings.cgroupParent
}

/** runc hides this failure behind "can't get final child's PID from pipe"; say it plainly first. */
export function checkOomScoreAdj(config: PodSandboxConfig, effective: string[]): void {
  const adj = config.linux?.resources?.oom_score_adj ?? config.linux?.overhead?.oom_score_adj
  if (adj !== undefined && adj < 0 && !effective.includes('CAP_SYS_RESOURCE')) {
    throw usageError(
      `linux.resources.oom_score_adj: ${adj} needs CAP_SYS_RESOURCE, which this process lacks`,
      'use an oom_score_adj of 0 or more, or run podctl with CAP_SYS_RESOURCE',
    )
  }
}
