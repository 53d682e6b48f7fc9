import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../core/clock.js'
import { isRiskError } from '../../core/errors.js'
import { createTokenVerifier, loadPublicKeysFile, parsePublicKeys } from '../../api/jwt.js'
import { generateRsaSigningPair, mintAccessToken, signToken } from '../../api/tokens.js'
import { AUTH, SECRET, START_MS, tokenFor } from './helpers.js'

const rsa = generateRsaSigningPair('key-1')
const otherRsa = generateRsaSigningPair('key-2')
const claims = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: AUTH.issuer, aud: AUTH.audience, sub: 'alice', exp: START_MS / 1000 + 600, roles: ['aml_officer'], ...overrides,
})

function rejection(verify: () => unknown): string {
  try {
    verify()
  } catch (error) {
    if (isRiskError(error, 'RISK_ERR_UNAUTHENTICATED')) return error.message
    throw error
  }
  throw new Error('expected the token to be refused')
}

describe('HS256 verification', () => {
  const clock = new ManualClock(START_MS)
  const verifier = createTokenVerifier(AUTH, clock)

  it('accepts a valid token and reads subject, roles and expiry', () => {
    const principal = verifier.verify(tokenFor(['aml_officer', 'regulator_read'], 'alice'))
    expect(principal).toMatchObject({ subject: 'alice', roles: ['aml_officer', 'regulator_read'], issuer: AUTH.issuer, expiresAtMs: START_MS + 3_600_000 })
    expect(principal.tokenId).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('reads Keycloak realm_access.roles, merges them with roles and ignores unknown role names', () => {
    const token = signToken(claims({ roles: ['aml_officer', 'offline_access'], realm_access: { roles: ['rules_admin', 'uma_authorization'] } }), { algorithm: 'HS256', secret: SECRET })
    expect(verifier.verify(token).roles).toEqual(['aml_officer', 'rules_admin'])
    const keycloak = mintAccessToken({ subject: 'bob', roles: ['data_scientist'], issuer: AUTH.issuer, audience: AUTH.audience, nowMs: START_MS, lifetimeMs: 60_000, key: { algorithm: 'HS256', secret: SECRET }, keycloakStyle: true })
    expect(verifier.verify(keycloak).roles).toEqual(['data_scientist'])
  })

  it('checks exp and nbf with the leeway, and iat in the future', () => {
    const hs = { algorithm: 'HS256', secret: SECRET } as const
    expect(verifier.verify(signToken(claims({ exp: START_MS / 1000 - 20 }), hs)).subject).toBe('alice') // within 30 s leeway
    expect(rejection(() => verifier.verify(signToken(claims({ exp: START_MS / 1000 - 31 }), hs)))).toContain('expired at 2025-01-15T11:59:29.000Z')
    expect(verifier.verify(signToken(claims({ nbf: START_MS / 1000 + 20 }), hs)).subject).toBe('alice')
    expect(rejection(() => verifier.verify(signToken(claims({ nbf: START_MS / 1000 + 31 }), hs)))).toContain('not valid before')
    expect(rejection(() => verifier.verify(signToken(claims({ iat: START_MS / 1000 + 3600 }), hs)))).toContain('issued in the future')
    expect(rejection(() => verifier.verify(signToken(claims({ exp: undefined }), hs)))).toContain('no expiry')
    expect(rejection(() => verifier.verify(signToken(claims({ exp: 'tomorrow' }), hs)))).toContain("'exp' claim must be a number")
  })

  it('checks issuer, audience (string or array) and subject', () => {
    const hs = { algorithm: 'HS256', secret: SECRET } as const
    expect(rejection(() => verifier.verify(signToken(claims({ iss: 'https://evil.test' }), hs)))).toContain('issuer')
    expect(rejection(() => verifier.verify(signToken(claims({ aud: 'another-api' }), hs)))).toContain('audience')
    expect(verifier.verify(signToken(claims({ aud: ['account', AUTH.audience] }), hs)).subject).toBe('alice')
    expect(rejection(() => verifier.verify(signToken(claims({ sub: '' }), hs)))).toContain('no subject')
    expect(rejection(() => verifier.verify(signToken(claims({ roles: 'aml_officer' }), hs)))).toContain("'roles' claim must be an array")
  })

  it('refuses a wrong secret, a changed payload, alg none, other algorithms, crit headers and junk', () => {
    const token = tokenFor(['aml_officer'])
    expect(rejection(() => verifier.verify(mintAccessToken({ subject: 'alice', roles: ['aml_officer'], issuer: AUTH.issuer, audience: AUTH.audience, nowMs: START_MS, lifetimeMs: 60_000, key: { algorithm: 'HS256', secret: 'another-secret-also-long-enough-for-hs256' } })))).toContain('signature is invalid')
    const [header, , signature] = token.split('.')
    const forged = Buffer.from(JSON.stringify(claims({ roles: ['rules_admin'] }))).toString('base64url')
    expect(rejection(() => verifier.verify(`${header}.${forged}.${signature}`))).toContain('signature is invalid')
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`
    expect(rejection(() => verifier.verify(none))).toContain('not a JWT')
    expect(rejection(() => verifier.verify(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.AA`))).toContain("algorithm 'none' is not accepted")
    expect(rejection(() => verifier.verify(signToken(claims(), { algorithm: 'HS256', secret: SECRET }, { alg: 'HS512' })))).toContain("'HS512' is not accepted")
    expect(rejection(() => verifier.verify(signToken(claims(), { algorithm: 'HS256', secret: SECRET }, { crit: ['exp'] })))).toContain('critical')
    expect(rejection(() => verifier.verify('not-a-token'))).toContain('not a JWT')
    expect(rejection(() => verifier.verify('bm90IGpzb24.e30.AA'))).toContain('not base64url JSON')
    expect(rejection(() => verifier.verify('x'.repeat(20_000)))).toContain('longer than')
  })

  it('refuses RS256 when only a secret is configured', () => {
    expect(rejection(() => verifier.verify(signToken(claims(), { algorithm: 'RS256', privateKey: rsa.privateKey, kid: 'key-1' })))).toContain('RS256 tokens are not accepted')
  })

  it('refuses to start without keys, with a short secret, or without issuer/audience', () => {
    expect(() => createTokenVerifier({ issuer: 'i', audience: 'a' })).toThrow(/RISK_ERR_CONFIG_INVALID.*PITBOSS_API_JWT_HS256_SECRET/)
    expect(() => createTokenVerifier({ issuer: 'i', audience: 'a', hs256Secret: 'short' })).toThrow(/at least 32 bytes/)
    expect(() => createTokenVerifier({ issuer: '', audience: 'a', hs256Secret: SECRET })).toThrow(/issuer and an audience/)
  })
})

describe('RS256 verification', () => {
  const clock = new ManualClock(START_MS)
  const jwks = parsePublicKeys(JSON.stringify({ keys: [rsa.publicJwk, otherRsa.publicJwk, { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'ec' }] }), 'test jwks')
  const verifier = createTokenVerifier({ issuer: AUTH.issuer, audience: AUTH.audience, publicKeys: jwks }, clock)

  it('picks the key by kid from a JWKS (skipping non-RSA keys) and verifies', () => {
    expect(jwks.map((key) => key.kid)).toEqual(['key-1', 'key-2'])
    expect(verifier.verify(signToken(claims(), { algorithm: 'RS256', privateKey: rsa.privateKey, kid: 'key-1' })).subject).toBe('alice')
    expect(verifier.verify(signToken(claims(), { algorithm: 'RS256', privateKey: otherRsa.privateKey, kid: 'key-2' })).subject).toBe('alice')
    expect(rejection(() => verifier.verify(signToken(claims(), { algorithm: 'RS256', privateKey: otherRsa.privateKey, kid: 'key-1' })))).toContain('signature is invalid')
    expect(rejection(() => verifier.verify(signToken(claims(), { algorithm: 'RS256', privateKey: rsa.privateKey, kid: 'rotated' })))).toContain("no public key has kid 'rotated'")
    // Without a kid every key is tried.
    expect(verifier.verify(signToken(claims(), { algorithm: 'RS256', privateKey: otherRsa.privateKey })).subject).toBe('alice')
  })

  it('cannot be tricked into HS256 with the public key as the secret (algorithm confusion)', () => {
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString()
    expect(rejection(() => verifier.verify(signToken(claims(), { algorithm: 'HS256', secret: pem })))).toContain('HS256 tokens are not accepted')
  })

  it('loads PEM files (keys and several blocks) and refuses unusable key files', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-jwt-'))
    try {
      const pemFile = path.join(directory, 'keys.pem')
      fs.writeFileSync(pemFile, [rsa.publicKey, otherRsa.publicKey].map((key) => key.export({ type: 'spki', format: 'pem' })).join('\n'))
      const keys = loadPublicKeysFile(pemFile)
      expect(keys).toHaveLength(2)
      const fromPem = createTokenVerifier({ issuer: AUTH.issuer, audience: AUTH.audience, publicKeys: keys }, clock)
      expect(fromPem.verify(signToken(claims(), { algorithm: 'RS256', privateKey: otherRsa.privateKey, kid: 'any' })).subject).toBe('alice')
      expect(() => loadPublicKeysFile(path.join(directory, 'missing.pem'))).toThrow(/cannot read the public keys file/)
      expect(() => parsePublicKeys('hello', 'x')).toThrow(/no PEM public key/)
      expect(() => parsePublicKeys('{"keys":[]}', 'x')).toThrow(/no RSA signing key/)
      expect(() => parsePublicKeys('{"keys":', 'x')).toThrow(/not valid JSON/)
    } finally {
      fs.rmSync(directory, { recursive: true, force: true })
    }
  })

  it('accepts HS256 and RS256 side by side when both are configured', () => {
    const both = createTokenVerifier({ ...AUTH, publicKeys: jwks }, clock)
    expect(both.verify(tokenFor(['aml_officer'])).subject).toBe('alice')
    expect(both.verify(signToken(claims(), { algorithm: 'RS256', privateKey: rsa.privateKey, kid: 'key-1' })).subject).toBe('alice')
  })
})
