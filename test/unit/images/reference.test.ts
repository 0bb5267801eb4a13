import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {parseReference} from '../../../src/images/reference.js'
import {podctlError} from '../helpers.js'

const d = `sha256:${'a'.repeat(64)}`

describe('parseReference', () => {
  const good: [string, string, string, string | undefined, string | undefined, string][] = [
    // text, registry, repository, tag, digest, name
    ['busybox', 'docker.io', 'library/busybox', 'latest', undefined, 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io', 'library/busybox', '1.36', undefined, 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io', 'library/busybox', 'latest', undefined, 'docker.io/library/busybox:latest'],
    ['docker.io/busybox', 'docker.io', 'library/busybox', 'latest', undefined, 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox', 'docker.io', 'library/busybox', 'latest', undefined, 'docker.io/library/busybox:latest'],
    ['bitnami/redis:7', 'docker.io', 'bitnami/redis', '7', undefined, 'docker.io/bitnami/redis:7'],
    ['registry.k8s.io/pause:3.9', 'registry.k8s.io', 'pause', '3.9', undefined, 'registry.k8s.io/pause:3.9'],
    ['quay.io/a/b/c', 'quay.io', 'a/b/c', 'latest', undefined, 'quay.io/a/b/c:latest'],
    ['localhost/app', 'localhost', 'app', 'latest', undefined, 'localhost/app:latest'],
    ['localhost:5000/app:v1', 'localhost:5000', 'app', 'v1', undefined, 'localhost:5000/app:v1'],
    ['127.0.0.1:5000/team/app', '127.0.0.1:5000', 'team/app', 'latest', undefined, '127.0.0.1:5000/team/app:latest'],
    ['myhost:5000/app', 'myhost:5000', 'app', 'latest', undefined, 'myhost:5000/app:latest'],
    [`busybox@${d}`, 'docker.io', 'library/busybox', undefined, d, `docker.io/library/busybox@${d}`],
    [`busybox:1.36@${d}`, 'docker.io', 'library/busybox', '1.36', d, `docker.io/library/busybox@${d}`],
    [`127.0.0.1:5000/app@${d}`, '127.0.0.1:5000', 'app', undefined, d, `127.0.0.1:5000/app@${d}`],
    ['a/b__c-d.e_f', 'docker.io', 'a/b__c-d.e_f', 'latest', undefined, 'docker.io/a/b__c-d.e_f:latest'],
    ['app:V1.0_rc-2', 'docker.io', 'library/app', 'V1.0_rc-2', undefined, 'docker.io/library/app:V1.0_rc-2'],
    ['[::1]:5000/app', '[::1]:5000', 'app', 'latest', undefined, '[::1]:5000/app:latest'],
  ]
  for (const [text, registry, repository, tag, digest, name] of good) {
    test(text, () => {
      const ref = parseReference(text)
      assert.deepEqual(ref, {registry, repository, name, ...(tag === undefined ? {} : {tag}), ...(digest === undefined ? {} : {digest})})
    })
  }

  const bad: [string, string][] = [
    ['', 'empty'],
    [' busybox', 'spaces'],
    ['Busybox', 'lowercase'],
    ['busybox:', 'not a valid tag'],
    ['busybox:-x', 'not a valid tag'],
    ['busybox@sha256:abc', '64 lowercase hex'],
    [`busybox@md5:${'a'.repeat(32)}`, 'unsupported digest algorithm'],
    ['busybox@', 'not a digest'],
    ['a//b', 'not a valid repository name component'],
    ['/busybox', 'not a valid repository name component'],
    ['busybox/', 'not a valid repository name component'],
    ['a/-b', 'not a valid repository name component'],
    ['host:99999/app', 'out of range'],
    ['localhost:5000/', 'not a valid repository name component'],
    [`a/${'b'.repeat(300)}`, 'longer than 255'],
    ['busybox:1.36:2', 'not a valid'],
    // The part quoted after the reference is escaped too: no raw escape sequence reaches the terminal.
    ['a\u001b[31mb', '"a\\u001b[31mb" is not a valid repository name component'],
  ]
  for (const [text, needle] of bad) {
    test(`refuses ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseReference(text), podctlError(2, 'invalid image reference', needle))
    })
  }
})
