// Exec's pure parts: the process spec from the container's, and the runtime's
// start errors said as a shell's statuses.

import assert from 'node:assert/strict'
import {test} from 'node:test'

import {execProcess, startFailureStatus} from '../../../src/runtime/container-exec.js'

test('the exec process is the container\'s with the command as args; a tty adds TERM=xterm', () => {
  const container = {args: ['httpd', '-f'], env: ['PATH=/bin'], cwd: '/srv', user: {uid: 33, gid: 33}, terminal: false, oomScoreAdj: 5, consoleSize: {height: 1, width: 1}, capabilities: {bounding: ['CAP_CHOWN']}}
  const plain = execProcess(container, ['ls', '-l'], false)
  assert.deepEqual(plain.args, ['ls', '-l'])
  assert.deepEqual(plain.env, ['PATH=/bin'])
  assert.equal(plain.cwd, '/srv')
  assert.deepEqual(plain.user, {uid: 33, gid: 33})
  assert.deepEqual(plain.capabilities, {bounding: ['CAP_CHOWN']})
  assert.equal(plain.terminal, false)
  assert.equal('oomScoreAdj' in plain, false)
  assert.equal('consoleSize' in plain, false)
  const tty = execProcess(container, ['sh'], true)
  assert.equal(tty.terminal, true)
  assert.deepEqual(tty.env, ['PATH=/bin', 'TERM=xterm'])
  assert.deepEqual(execProcess({env: ['TERM=vt100']}, ['sh'], true).env, ['TERM=vt100'])
  assert.deepEqual(container.args, ['httpd', '-f'], 'the container\'s own spec is left as it was')
})

test('runc\'s start errors as 127 (not found) and 126 (cannot execute)', () => {
  const runc = (tail: string) => `exec failed: unable to start container process: exec: ${tail}`
  assert.deepEqual(startFailureStatus(runc('"nosuch": executable file not found in $PATH')), {exitCode: 127, why: '"nosuch" not found in the container ($PATH)'})
  assert.equal(startFailureStatus(runc('"/bin/x": stat /bin/x: no such file or directory'))?.exitCode, 127)
  assert.equal(startFailureStatus(runc('"/etc/passwd": permission denied'))?.exitCode, 126)
  assert.equal(startFailureStatus('container not running'), undefined)
})
