// The iptables rules CNI plugins keep for a pod, found from what the host
// shows rather than from podctl's record: bridge's masquerade chain
// (CNI-<hash>) and portmap's DNAT chain (CNI-DN-<hash>), each named by a hash
// of the network name and the container ID, and every rule that leads to them
// carrying the comment `name: "<network>" id: "<container ID>"`
// (plugins/pkg/utils FormatChainName and FormatComment). A plugin's DEL
// removes them only when it can see the pod's interface, or its cached
// result; after a netns that vanished, a DEL that was cut short or a lost
// record, they are removed here by that comment and those names.

import {createHash} from 'node:crypto'

import {PodctlError} from './errors.js'
import {type OpContext, run} from './exec.js'

/** The chains and rules of one pod in one table, as iptables-save prints them. */
export interface PodRules {
  /** iptables or ip6tables */
  family: Family
  /** the `-A ...` lines that carry the pod's comment */
  rules: string[]
  /** the pod's own chains (every rule in them goes with them) */
  chains: string[]
}

const families = ['iptables', 'ip6tables'] as const
type Family = (typeof families)[number]

/** CNI's chain name for a network and a container (CNI plugins' utils.FormatChainName): at most 28 characters. */
export function cniChainName(prefix: 'CNI-' | 'CNI-DN-', network: string, containerId: string): string {
  return prefix + createHash('sha512').update(network + containerId).digest('hex').slice(0, 28 - prefix.length)
}

/** The container ID a rule's CNI comment names, if it has one. */
export function commentedId(line: string): string | undefined {
  return line.match(/--comment "(?:dnat )?name: \\"[^"\\]*\\" id: \\"([0-9a-f]{64})\\""/)?.[1]
}

/**
 * The pod's rules and chains in the nat table of one family, from its
 * iptables-save text: the rules commented with its ID, and the chains those
 * rules jump to or that carry its hashed names for any of `networks`, when
 * the table has them and nothing else jumps to them.
 */
export function podRulesIn(save: string, containerId: string, networks: string[]): {rules: string[]; chains: string[]} {
  const lines = save.split('\n')
  const existing = new Set(lines.filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]))
  const rules = lines.filter((l) => l.startsWith('-A ') && commentedId(l) === containerId)
  const candidates = new Set<string>()
  for (const r of rules) {
    const target = r.match(/ -j (CNI-(?:DN-)?[0-9a-f]{20,24})(?: |$)/)?.[1]
    if (target) candidates.add(target)
  }
  for (const network of networks) {
    candidates.add(cniChainName('CNI-', network, containerId))
    candidates.add(cniChainName('CNI-DN-', network, containerId))
  }
  const kept = lines.filter((l) => l.startsWith('-A ') && !rules.includes(l))
  const chains = [...candidates].filter(
    (c) => existing.has(c) && !kept.some((l) => !l.startsWith(`-A ${c} `) && (l.endsWith(` -j ${c}`) || l.includes(` -j ${c} `) || l.includes(` -g ${c}`))),
  )
  return {rules, chains}
}

/** The nat table of each family, as iptables-save prints it; a family whose tools are missing is left out. */
export async function natTables(ctx: OpContext): Promise<{family: Family; save: string}[]> {
  const tables: {family: Family; save: string}[] = []
  for (const family of families) {
    const save = await natTable(ctx, family)
    if (save !== undefined) tables.push({family, save})
  }
  return tables
}

/**
 * Remove the pod's rules and chains: one iptables-restore per family, which
 * applies them together (rules first, then the chains, flushed and deleted),
 * from a fresh read of the table. Run it under the CNI lock: the plugins edit
 * the same chains. Returns what was removed.
 */
export async function removePodRules(ctx: OpContext, containerId: string, networks: string[]): Promise<PodRules[]> {
  const found: PodRules[] = []
  for (const {family, save} of await natTables(ctx)) {
    const {rules, chains} = podRulesIn(save, containerId, networks)
    if (rules.length === 0 && chains.length === 0) continue
    found.push({family, rules, chains})
    const script = ['*nat', ...rules.map((r) => r.replace(/^-A /, '-D ')), ...chains.flatMap((c) => [`-F ${c}`, `-X ${c}`]), 'COMMIT', ''].join('\n')
    const result = await run(ctx, `${family}-restore`, ['--noflush', '--wait'], {input: script})
    if (result.exitCode !== 0) {
      throw new PodctlError(`failed to remove the ${family} rules of pod "${containerId}": ${(result.stderr || result.stdout).trim().split('\n').slice(-2).join('; ')}`)
    }
  }
  return found
}

/** iptables-save of the nat table; undefined when the tool is not installed or the table cannot be read. */
async function natTable(ctx: OpContext, family: Family): Promise<string | undefined> {
  try {
    const result = await run(ctx, `${family}-save`, ['-t', 'nat'])
    return result.exitCode === 0 ? result.stdout : undefined
  } catch (err) {
    if (err instanceof PodctlError && /ENOENT/.test(err.message)) return undefined
    throw err
  }
}
