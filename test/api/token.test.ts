import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../core/clock.js'
import { createTokenVerifier, parsePublicKeys } from '../../api/jwt.js'
import { generateRsaSigningPair } from '../../api/tokens.js'
import { SECRET } from './helpers.js'

const run = promisify(execFile)
const repositoryRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..')
let directory: string
beforeAll(() => { directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-token-')) })
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }))

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    // PITBOSS_HOME into the temp folder: loadConfig must not touch the repository's working folder.
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'api/token.ts', ...args], { cwd: repositoryRoot, env: { ...process.env, PITBOSS_HOME: directory } })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string }
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr }
  }
}

describe('npx tsx api/token.ts', () => {
  it('mints HS256 and RS256 tokens the API accepts, and explains misuse', async () => {
    const secretFile = path.join(directory, 'secret')
    fs.writeFileSync(secretFile, `${SECRET}\n`)
    const pair = generateRsaSigningPair('demo-1')
    const privateKeyFile = path.join(directory, 'private.pem')
    fs.writeFileSync(privateKeyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }))
    const [hs, rs, noRole, badRole] = await Promise.all([
      cli('--role', 'aml_officer', '--role', 'regulator_read', '--sub', 'alice', '--secret-file', secretFile),
      cli('--role', 'rules_admin', '--sub', 'bob', '--private-key-file', privateKeyFile, '--kid', 'demo-1', '--keycloak', '--issuer', 'https://sso.test', '--audience', 'console'),
      cli('--sub', 'alice', '--secret-file', secretFile),
      cli('--role', 'root', '--sub', 'alice', '--secret-file', secretFile),
    ])
    const clock = new ManualClock(Date.now())
    expect(hs.code).toBe(0)
    const hsPrincipal = createTokenVerifier({ issuer: 'pitboss-dev', audience: 'pitboss-api', hs256Secret: SECRET }, clock).verify(hs.stdout.trim())
    expect(hsPrincipal).toMatchObject({ subject: 'alice', roles: ['aml_officer', 'regulator_read'] })
    expect(hsPrincipal.expiresAtMs - clock.nowMs()).toBeGreaterThan(3_500_000)
    expect(rs.code).toBe(0)
    const rsVerifier = createTokenVerifier({ issuer: 'https://sso.test', audience: 'console', publicKeys: parsePublicKeys(JSON.stringify({ keys: [pair.publicJwk] }), 'jwks') }, clock)
    expect(rsVerifier.verify(rs.stdout.trim())).toMatchObject({ subject: 'bob', roles: ['rules_admin'] })
    expect(noRole).toMatchObject({ code: 2, stdout: '' })
    expect(noRole.stderr).toContain('give at least one --role')
    expect(badRole.stderr).toContain('unknown role root')
  })
})
