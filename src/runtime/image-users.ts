// The container's user from its image's /etc/passwd and /etc/group, as
// containerd's oci.WithUser and WithAdditionalGIDs resolve it: a user name
// (run_as_username, or an image USER such as "www-data" or "www-data:1004")
// becomes its UID and primary GID; a bare UID takes its primary GID from
// passwd (0 when the UID is not listed); and the groups of /etc/group that
// list the user as a member become supplementary groups (Kubernetes: "if the
// container's primary UID belongs to some groups in the image, runtime should
// add SupplementalGroups to them"). Pure: the files' text comes in.

import {usageError} from './errors.js'

export interface PasswdEntry {
  name: string
  uid: number
  gid: number
}

export interface GroupEntry {
  name: string
  gid: number
  members: string[]
}

/** The image's /etc/passwd and /etc/group as text; absent when the image has none. */
export interface ImageEtc {
  passwd?: string
  group?: string
}

const id = (s: string | undefined): number | undefined => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined)

/** Entries of /etc/passwd; comments, blank and malformed lines are skipped, as libc's getpwent does. */
export function parsePasswd(text = ''): PasswdEntry[] {
  const out: PasswdEntry[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const [name, , uid, gid] = line.split(':')
    const u = id(uid)
    const g = id(gid)
    if (name && u !== undefined && g !== undefined) out.push({name, uid: u, gid: g})
  }
  return out
}

/** Entries of /etc/group; the fourth field is a comma-separated member list. */
export function parseGroup(text = ''): GroupEntry[] {
  const out: GroupEntry[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const [name, , gid, members = ''] = line.split(':')
    const g = id(gid)
    if (name && g !== undefined) out.push({name, gid: g, members: members.split(',').map((m) => m.trim()).filter(Boolean)})
  }
  return out
}

export interface ResolvedUser {
  uid: number
  gid: number
  /** the passwd name of the UID, when listed: whose /etc/group memberships count */
  name?: string
}

/**
 * A user string of the OCI image spec ("uid", "name", "uid:gid", "name:group",
 * …) resolved in the image's files. `what` names where the string came from
 * in errors, e.g. `image user "www-data"`.
 */
export function resolveUserString(user: string, etc: ImageEtc, what: string): ResolvedUser {
  const users = parsePasswd(etc.passwd)
  const parts = user.split(':')
  if (parts.length > 2 || parts[0] === '') throw usageError(`${what} is not a valid user: give "user" or "user:group"`)
  const [userPart, groupPart] = parts
  let resolved: ResolvedUser
  const uid = id(userPart)
  if (uid === undefined) {
    const entry = users.find((u) => u.name === userPart)
    if (!entry) {
      throw usageError(
        `${what}: no user "${userPart}" in the image's /etc/passwd${etc.passwd === undefined ? ' (the image has no /etc/passwd)' : ''}`,
        'give linux.security_context.run_as_user with a numeric UID, or use an image that has the user',
      )
    }
    resolved = {uid: entry.uid, gid: entry.gid, name: entry.name}
  } else {
    const entry = users.find((u) => u.uid === uid)
    // A UID not in passwd runs with GID 0 (runc's and containerd's default).
    resolved = entry ? {uid, gid: entry.gid, name: entry.name} : {uid, gid: 0}
  }
  if (groupPart === undefined) return resolved
  if (groupPart === '') throw usageError(`${what} is not a valid user: the group after ":" is empty`)
  const gid = id(groupPart)
  if (gid !== undefined) return {...resolved, gid}
  const group = parseGroup(etc.group).find((g) => g.name === groupPart)
  if (!group) throw usageError(`${what}: no group "${groupPart}" in the image's /etc/group`, 'give linux.security_context.run_as_group with a numeric GID')
  return {...resolved, gid: group.gid}
}

/** The GIDs of the groups that list `name` as a member, other than the user's own-named group (containerd's rule). */
export function memberGroups(name: string | undefined, etc: ImageEtc): number[] {
  if (name === undefined) return []
  return parseGroup(etc.group)
    .filter((g) => g.name !== name && g.members.includes(name))
    .map((g) => g.gid)
}
