/**
 * Mints access tokens, for tests and the demo (production tokens come from the identity
 * provider). Signs HS256 with a shared secret or RS256 with an RSA private key, with the claims
 * `createTokenVerifier` checks.
 *
 * Example:
 *   const token = mintAccessToken({ subject: 'alice', roles: ['aml_officer'], issuer: 'pitboss-dev',
 *     audience: 'pitboss-api', nowMs: Date.now(), lifetimeMs: 3_600_000,
 *     key: { algorithm: 'HS256', secret: 'a-secret-of-at-least-32-bytes...' } })
 *   // -> 'eyJhbGciOiJIUzI1NiIs...' for `Authorization: Bearer <token>`
 */
import { createHmac, createPrivateKey, generateKeyPairSync, randomUUID, sign, type JsonWebKey, type KeyObject } from 'node:crypto'
import type { ApiRole } from './roles.js'

export type SigningKey =
  | { readonly algorithm: 'HS256'; readonly secret: string }
  | { readonly algorithm: 'RS256'; readonly privateKey: KeyObject | string; readonly kid?: string }

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')
}

/** Signs any claims as a compact JWT; `header` adds to (or, in tests, overrides) the protected header. */
export function signToken(claims: Readonly<Record<string, unknown>>, key: SigningKey, header: Readonly<Record<string, unknown>> = {}): string {
  const protectedHeader = { alg: key.algorithm, typ: 'JWT', ...(key.algorithm === 'RS256' && key.kid !== undefined ? { kid: key.kid } : {}), ...header }
  const signingInput = `${base64urlJson(protectedHeader)}.${base64urlJson(claims)}`
  const signature = key.algorithm === 'HS256'
    ? createHmac('sha256', Buffer.from(key.secret, 'utf8')).update(signingInput).digest()
    : sign('sha256', Buffer.from(signingInput, 'ascii'), typeof key.privateKey === 'string' ? createPrivateKey(key.privateKey) : key.privateKey)
  return `${signingInput}.${signature.toString('base64url')}`
}

export interface AccessTokenRequest {
  readonly subject: string
  readonly roles: readonly ApiRole[]
  readonly issuer: string
  readonly audience: string
  /** Issue time; the caller passes its clock's reading so tests stay deterministic. */
  readonly nowMs: number
  readonly lifetimeMs: number
  readonly key: SigningKey
  /** Put the roles Keycloak-style in `realm_access.roles` instead of `roles`. */
  readonly keycloakStyle?: boolean
  /** Extra or overriding claims (tests use it for broken tokens). */
  readonly claims?: Readonly<Record<string, unknown>>
}

export function mintAccessToken(request: AccessTokenRequest): string {
  const nowSeconds = Math.floor(request.nowMs / 1000)
  return signToken({
    iss: request.issuer,
    aud: request.audience,
    sub: request.subject,
    iat: nowSeconds,
    nbf: nowSeconds,
    exp: nowSeconds + Math.ceil(request.lifetimeMs / 1000),
    jti: randomUUID(),
    ...(request.keycloakStyle === true ? { realm_access: { roles: [...request.roles] } } : { roles: [...request.roles] }),
    ...request.claims,
  }, request.key)
}

export interface RsaSigningPair {
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  /** The public key as a JWK with `kid`, `use` and `alg`, ready for a JWKS file. */
  readonly publicJwk: JsonWebKey & { kid: string; use: 'sig'; alg: 'RS256' }
}

/** A fresh 2048-bit RSA pair for RS256 (tests, the demo's JWKS file). */
export function generateRsaSigningPair(kid: string): RsaSigningPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { privateKey, publicKey, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' } }
}
