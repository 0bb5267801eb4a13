// The streaming server's tokens, as kubelet's request cache
// (pkg/kubelet/cri/streaming/request_cache.go): Exec, Attach and
// PortForward store what they were asked and return a URL holding a random
// token; the token is good for one request within a minute. The stored
// request, not the URL, says what to run, so a URL cannot be altered into
// another command.

import {randomBytes} from 'node:crypto'

import type {RemoteCommandRequest} from './remotecommand.js'

/** What a URL stands for: the CRI request it was issued for. */
export type StreamRequest = {kind: 'portforward'; podSandboxId: string} | RemoteCommandRequest

/** kubelet's figures: a URL lives a minute, and at most 1000 wait to be used. */
export const tokenTtlMs = 60_000
export const maxInFlight = 1000

export class TooManyRequestsError extends Error {}

export class RequestCache {
  private readonly entries = new Map<string, {request: StreamRequest; expires: number}>()

  constructor(
    private readonly ttlMs = tokenTtlMs,
    private readonly limit = maxInFlight,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new token for the request. */
  insert(request: StreamRequest): string {
    this.collect()
    if (this.entries.size >= this.limit) throw new TooManyRequestsError('maximum number of in-flight streaming requests exceeded')
    for (;;) {
      // 6 random bytes: 8 URL-safe characters, as kubelet's.
      const token = randomBytes(6).toString('base64url')
      if (this.entries.has(token)) continue
      this.entries.set(token, {request, expires: this.now() + this.ttlMs})
      return token
    }
  }

  /** The request a token stands for, once: the token is gone afterwards, used or expired. */
  consume(token: string): StreamRequest | undefined {
    const entry = this.entries.get(token)
    if (!entry) return undefined
    this.entries.delete(token)
    return entry.expires > this.now() ? entry.request : undefined
  }

  get size(): number {
    return this.entries.size
  }

  private collect(): void {
    const now = this.now()
    for (const [token, entry] of this.entries) if (entry.expires <= now) this.entries.delete(token)
  }
}
