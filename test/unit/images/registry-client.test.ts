import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {parseCreds, resolveCredentials} from '../../../src/images/auth.js'
import {endpointsOf, parseChallenge} from '../../../src/images/distribution.js'
import {parseReference} from '../../../src/images/reference.js'
import {chainIds, parsePlatform} from '../../../src/images/store.js'
import {podctlError, tempDir} from '../helpers.js'

describe('parseChallenge', () => {
  test('Bearer with quoted values holding commas and colons', () => {
    assert.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push"'), {
      scheme: 'bearer',
      params: {realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull,push'},
    })
  })
  test('Basic with a realm', () => {
    assert.deepEqual(parseChallenge('Basic realm="podctl-test"'), {scheme: 'basic', params: {realm: 'podctl-test'}})
  })
})

describe('endpointsOf', () => {
  test('docker.io is registry-1.docker.io over HTTPS, after its mirrors', () => {
    assert.deepEqual(
      endpointsOf('docker.io', {'docker.io': {mirrors: ['http://127.0.0.1:5000']}}).map((e) => [e.base, e.mirror]),
      [
        ['http://127.0.0.1:5000', true],
        ['https://registry-1.docker.io', false],
      ],
    )
  })
  test('loopback and insecure hosts may answer plain HTTP; others only HTTPS', () => {
    assert.deepEqual(endpointsOf('127.0.0.1:5000', {})[0], {base: 'http://127.0.0.1:5000', mirror: false, skipVerify: false, httpFallback: true})
    assert.deepEqual(endpointsOf('localhost:5000', {})[0].httpFallback, true)
    assert.deepEqual(endpointsOf('10.0.0.5:5000', {'10.0.0.5:5000': {insecure: true}})[0], {base: 'http://10.0.0.5:5000', mirror: false, skipVerify: true, httpFallback: true})
    assert.deepEqual(endpointsOf('quay.io', {})[0], {base: 'https://quay.io', mirror: false, skipVerify: false, httpFallback: false})
  })
})

describe('credentials', () => {
  test('--creds USER[:PASS]', () => {
    assert.deepEqual(parseCreds('u:p:q'), {username: 'u', password: 'p:q'})
    assert.deepEqual(parseCreds('u'), {username: 'u', password: ''})
    assert.throws(() => parseCreds(':p'), podctlError(2, '--creds'))
  })
  test('auth.json before docker config, by host or URL key, most specific repository first', () => {
    const dir = tempDir()
    const b64 = (s: string) => Buffer.from(s).toString('base64')
    writeFileSync(join(dir, 'auth.json'), JSON.stringify({auths: {'r.example.com/team': {auth: b64('team:1')}, 'r.example.com': {auth: b64('host:2')}}}))
    mkdirSync(join(dir, 'docker'))
    writeFileSync(join(dir, 'docker', 'config.json'), JSON.stringify({auths: {'https://index.docker.io/v1/': {auth: b64('hub:3')}, 'r.example.com': {auth: b64('docker:4')}}}))
    const env = {REGISTRY_AUTH_FILE: join(dir, 'auth.json'), DOCKER_CONFIG: join(dir, 'docker'), HOME: dir}
    assert.deepEqual(resolveCredentials(parseReference('r.example.com/team/app'), undefined, env), {username: 'team', password: '1'})
    assert.deepEqual(resolveCredentials(parseReference('r.example.com/other'), undefined, env), {username: 'host', password: '2'})
    assert.deepEqual(resolveCredentials(parseReference('busybox'), undefined, env), {username: 'hub', password: '3'})
    assert.equal(resolveCredentials(parseReference('quay.io/x'), undefined, env), undefined)
    assert.deepEqual(resolveCredentials(parseReference('quay.io/x'), {auth: b64('a:b')}, env), {username: 'a', password: 'b'})
  })
})

describe('chainIds and platforms', () => {
  test('the chain ID of the image-spec', () => {
    const a = `sha256:${'a'.repeat(64)}`
    const b = `sha256:${'b'.repeat(64)}`
    const [c0, c1] = chainIds([a, b])
    assert.equal(c0, a)
    assert.equal(c1, `sha256:${createHash('sha256').update(`${a} ${b}`).digest('hex')}`)
  })
  test('platforms as os/arch[/variant], with the usual aliases', () => {
    assert.deepEqual(parsePlatform(undefined), {os: 'linux', architecture: 'amd64'})
    assert.deepEqual(parsePlatform('linux/arm64/v8'), {os: 'linux', architecture: 'arm64', variant: 'v8'})
    assert.deepEqual(parsePlatform('linux/x86_64'), {os: 'linux', architecture: 'amd64'})
    assert.throws(() => parsePlatform('linux'), podctlError(2, '--platform'))
  })
})
