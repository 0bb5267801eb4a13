// How pod stats look on stdout: {"stats": [...]} for JSON and YAML, as
// crictl prints ListPodSandboxStatsResponse, and crictl's statsp table with
// the network and process columns added.

import type {ContainerStats} from '../runtime/container-stats.js'
import type {PodSandboxStats, PodStatsEntry} from '../runtime/stats.js'
import {tabwriter} from './format.js'
import {truncatedIdLength} from './pods.js'

/** The figures only: CRI ListPodSandboxStats covers ready pods alone. */
export function statsDocument(entries: PodStatsEntry[]): {stats: PodSandboxStats[]} {
  return {stats: entries.flatMap((e) => (e.stats ? [e.stats] : []))}
}

const decimalUnits = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB']

/**
 * go-units HumanSizeWithPrecision, decimal units: four significant digits by
 * default as crictl's MEM column ("13.43MB"), three as its images' SIZE ("1.46MB").
 */
export function humanSize(bytes: number, precision = 4): string {
  let size = bytes
  let unit = 0
  while (size >= 1000 && unit < decimalUnits.length - 1) {
    size /= 1000
    unit++
  }
  // Go's %.<precision>g: trailing zeros dropped, and an exponent once rounding reaches 10^precision (999999 B is "1e+03kB").
  const [mantissa, exponent] = size.toPrecision(precision).split('e')
  const digits = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa
  const e = exponent === undefined ? '' : `e${exponent.startsWith('-') ? '-' : '+'}${exponent.replace(/^[+-]/, '').padStart(2, '0')}`
  return `${digits}${e}${decimalUnits[unit]}`
}

const none = '-'

/** CPU %: usage_nano_cores as a percentage of one core, crictl's %.2f. */
function cpuPercent(stats: PodSandboxStats): string {
  const cores = stats.linux.cpu?.usageNanoCores
  return cores ? (Number(cores.value) / 1e7).toFixed(2) : none
}

/** Received / sent bytes of the pod's interfaces, loopback left out, as docker stats' NET I/O. */
function netRxTx(stats: PodSandboxStats): string {
  const network = stats.linux.network
  if (!network) return none
  let rx = 0
  let tx = 0
  for (const i of network.interfaces) {
    if (i.name === 'lo') continue
    rx += Number(i.rxBytes.value)
    tx += Number(i.txBytes.value)
  }
  return `${humanSize(rx)} / ${humanSize(tx)}`
}

export const statsColumns = ['POD', 'POD ID', 'CPU %', 'MEM', 'NET RX/TX', 'PIDS']

/** One row per pod; a pod without figures (NotReady) shows "-" in each. */
export function statsTable(entries: PodStatsEntry[]): string {
  const rows = entries.map(({pod: p, stats}) => {
    const pod = [p.metadata.name, p.id.slice(0, truncatedIdLength)]
    if (!stats) return [...pod, none, none, none, none]
    const memory = stats.linux.memory
    const processes = stats.linux.process
    return [
      ...pod,
      cpuPercent(stats),
      memory ? humanSize(Number(memory.workingSetBytes.value)) : none,
      netRxTx(stats),
      processes ? processes.processCount.value : none,
    ]
  })
  return tabwriter(statsColumns, rows)
}

/**
 * crictl stats' table: CONTAINER, NAME, CPU % (of one core over the sample),
 * MEM (working set), DISK (writable layer), INODES. Without all, containers
 * with neither CPU nor memory use are left out, as crictl's.
 */
export function containerStatsTable(stats: ContainerStats[], all: boolean): string {
  const rows = stats.flatMap((s) => {
    const cores = s.cpu?.usageNanoCores ? Number(s.cpu.usageNanoCores.value) : 0
    const memory = s.memory ? Number(s.memory.workingSetBytes.value) : 0
    if (!all && cores === 0 && memory === 0) return []
    const layer = s.writableLayer
    return [[
      s.attributes.id.slice(0, truncatedIdLength),
      s.attributes.metadata.name,
      (cores / 1e7).toFixed(2),
      s.memory ? humanSize(memory) : none,
      layer ? humanSize(Number(layer.usedBytes.value)) : none,
      layer ? layer.inodesUsed.value : none,
    ]]
  })
  return tabwriter(['CONTAINER', 'NAME', 'CPU %', 'MEM', 'DISK', 'INODES'], rows)
}
