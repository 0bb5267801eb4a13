// What the container tests share: the leak checks that pods' tests lack
// (monitors; overlay and shm mounts are in the env's mount check, container
// cgroups under each pod's cgroup check) and the prerequisite.

import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {cgroupDirs, type TestEnv, which} from './harness.js'

export const conmonMissing = () => (which('conmon') ? undefined : 'conmon is not installed (apt-get install conmon)')

/** Live processes (not zombies) of a program matching `program` whose command line names this env's state: left behind. */
export function processesOf(env: TestEnv, program: RegExp): string[] {
  const found: string[] = []
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let argv: string[]
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
      if (/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) continue
    } catch {
      continue
    }
    if (program.test(argv[0] ?? '') && argv.some((a) => a.startsWith(env.root) || a.startsWith(env.runRoot))) found.push(`${pid} ${argv.join(' ')}`)
  }
  return found
}

/** conmon processes of this env: a container's monitor left behind. */
export const conmonsOf = (env: TestEnv): string[] => processesOf(env, /conmon$/)

/** Container cgroups (<parent>/<pod>/<container>) in any hierarchy, also of pods that are still there. */
export function containerCgroupsOf(env: TestEnv): string[] {
  const found: string[] = []
  const dirs = (d: string) => {
    try {
      return readdirSync(d, {withFileTypes: true}).filter((e) => e.isDirectory() && /^[0-9a-f]{64}$/.test(e.name)).map((e) => join(d, e.name))
    } catch {
      return []
    }
  }
  for (const parent of cgroupDirs(env.cgroupParent)) for (const pod of dirs(parent)) found.push(...dirs(pod))
  return found
}

/** The env's own leak checks (mounts cover overlay and shm), plus monitors and container cgroups. */
export function assertClean(env: TestEnv): void {
  assert.deepEqual([...env.leaks(), ...conmonsOf(env).map((c) => `conmon: ${c}`), ...containerCgroupsOf(env).map((c) => `container cgroup: ${c}`)], [], 'resources left behind')
}

