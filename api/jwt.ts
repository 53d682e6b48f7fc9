/**
 * OAuth2 bearer tokens: verifies a JWT with node:crypto only (issue 8) and turns it into the
 * caller (`Principal`): subject and roles.
 *
 * Accepted: RS256 (public keys from a PEM or JWKS file, picked by `kid`) and HS256 (a shared
 * secret), whichever are configured; `alg: none` and every other algorithm are refused, and
 * a token can never choose HS256 against an RSA key (the algorithm picks the key store).
 * Claims checked: `exp` (required), `nbf` and `iat` (with `clockSkewMs` leeway), `iss` equal to
 * the configured issuer, `aud` holding the configured audience, a non-empty `sub`. Roles come
 * from `roles` and Keycloak's `realm_access.roles`; names pitboss does not know are ignored.
 *
 * Example:
 *   const verifier = createTokenVerifier({ issuer: 'https://sso.example', audience: 'pitboss-api',
 *     publicKeys: loadPublicKeysFile('/etc/pitboss/jwks.json') })
 *   verifier.verify(token)  // -> { subject: 'alice', roles: ['aml_officer'], ... } or throws RISK_ERR_UNAUTHENTICATED
 */
import { createHmac, createPublicKey, timingSafeEqual, verify as verifySignature, type JsonWebKey, type KeyObject } from 'node:crypto'
import fs from 'node:fs'
import { systemClock, type Clock } from '../core/clock.js'
import { RiskError } from '../core/errors.js'
import { isApiRole, type ApiRole } from './roles.js'

export interface VerificationKey {
  /** The JWKS `kid`; null for a key from a PEM file (tried for tokens of any `kid`). */
  readonly kid: string | null
  readonly key: KeyObject
}

export interface TokenVerificationOptions {
  /** The `iss` every token must carry, e.g. the Keycloak realm URL. */
  readonly issuer: string
  /** A value the token's `aud` (string or array) must hold. */
  readonly audience: string
  /** Shared secret for HS256, at least 32 bytes (RFC 7518 §3.2); null/absent = HS256 refused. */
  readonly hs256Secret?: string | null
  /** RSA public keys for RS256; empty/absent = RS256 refused. */
  readonly publicKeys?: readonly VerificationKey[]
  /** Leeway for `exp`, `nbf` and `iat` against our clock; default 30 s. */
  readonly clockSkewMs?: number
}

/** Who is calling, as established by a verified token. */
export interface Principal {
  readonly subject: string
  readonly roles: readonly ApiRole[]
  readonly issuer: string
  readonly expiresAtMs: number
  /** The token's `jti`, when it has one (recorded in the audit log). */
  readonly tokenId: string | null
}

export interface TokenVerifier {
  /** Returns the caller or throws RiskError RISK_ERR_UNAUTHENTICATED with the reason. */
  verify(token: string): Principal
}

export const DEFAULT_CLOCK_SKEW_MS = 30_000
const MIN_HS256_SECRET_BYTES = 32
const MIN_RSA_MODULUS_BITS = 2048
/** Far above a real token (a few hundred bytes to a few KiB); bounds the work a junk header can cause. */
const MAX_TOKEN_CHARACTERS = 16 * 1024
const BASE64URL = /^[A-Za-z0-9_-]+$/

function unauthenticated(message: string): RiskError {
  return new RiskError('RISK_ERR_UNAUTHENTICATED', message)
}

function decodeJsonSegment(segment: string, name: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
  } catch {
    throw unauthenticated(`the token's ${name} is not base64url JSON; send a JWT as issued by the identity provider`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw unauthenticated(`the token's ${name} is not a JSON object`)
  return value as Record<string, unknown>
}

function optionalNumericDate(payload: Record<string, unknown>, claim: string): number | null {
  const value = payload[claim]
  if (value === undefined) return null
  if (typeof value !== 'number' || !Number.isFinite(value)) throw unauthenticated(`the token's '${claim}' claim must be a number of seconds since the epoch`)
  return value * 1000
}

function roleClaim(value: unknown, claim: string): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || !value.every((role) => typeof role === 'string')) throw unauthenticated(`the token's '${claim}' claim must be an array of strings`)
  return value
}

function rolesOf(payload: Record<string, unknown>): ApiRole[] {
  const realmAccess = payload.realm_access
  const keycloakRoles = realmAccess !== null && typeof realmAccess === 'object' ? roleClaim((realmAccess as Record<string, unknown>).roles, 'realm_access.roles') : []
  const roles = new Set([...roleClaim(payload.roles, 'roles'), ...keycloakRoles].filter(isApiRole))
  return [...roles]
}

export function createTokenVerifier(options: TokenVerificationOptions, clock: Clock = systemClock): TokenVerifier {
  const secret = options.hs256Secret === undefined || options.hs256Secret === null ? null : Buffer.from(options.hs256Secret, 'utf8')
  const publicKeys = options.publicKeys ?? []
  const clockSkewMs = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS
  if (secret === null && publicKeys.length === 0) throw new RiskError('RISK_ERR_CONFIG_INVALID', 'token verification needs an HS256 secret or RS256 public keys: set PITBOSS_API_JWT_HS256_SECRET or PITBOSS_API_JWT_PUBLIC_KEYS_FILE')
  if (secret !== null && secret.length < MIN_HS256_SECRET_BYTES) throw new RiskError('RISK_ERR_CONFIG_INVALID', `the HS256 secret must be at least ${MIN_HS256_SECRET_BYTES} bytes (PITBOSS_API_JWT_HS256_SECRET); generate one with \`openssl rand -hex 32\``)
  if (options.issuer === '' || options.audience === '') throw new RiskError('RISK_ERR_CONFIG_INVALID', 'token verification needs an issuer and an audience (PITBOSS_API_JWT_ISSUER, PITBOSS_API_JWT_AUDIENCE)')

  function checkSignature(header: Record<string, unknown>, signingInput: string, signature: Buffer): void {
    if (header.alg === 'HS256') {
      if (secret === null) throw unauthenticated('HS256 tokens are not accepted by this API; use a token signed with RS256')
      const expected = createHmac('sha256', secret).update(signingInput).digest()
      if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) throw unauthenticated('the token signature is invalid')
      return
    }
    if (header.alg === 'RS256') {
      if (publicKeys.length === 0) throw unauthenticated('RS256 tokens are not accepted by this API; use a token signed with HS256')
      const kid = typeof header.kid === 'string' ? header.kid : null
      const candidates = kid === null ? publicKeys : publicKeys.filter((key) => key.kid === kid || key.kid === null)
      if (candidates.length === 0) throw unauthenticated(`no public key has kid '${kid}'; the identity provider may have rotated keys (update PITBOSS_API_JWT_PUBLIC_KEYS_FILE)`)
      const data = Buffer.from(signingInput, 'ascii')
      if (!candidates.some((candidate) => verifySignature('sha256', data, candidate.key, signature))) throw unauthenticated('the token signature is invalid')
      return
    }
    throw unauthenticated(`token algorithm '${String(header.alg)}' is not accepted; use RS256 or HS256`)
  }

  return {
    verify(token: string): Principal {
      if (token.length > MAX_TOKEN_CHARACTERS) throw unauthenticated(`the token is longer than ${MAX_TOKEN_CHARACTERS} characters`)
      const segments = token.split('.')
      if (segments.length !== 3 || !segments.every((segment) => BASE64URL.test(segment))) throw unauthenticated('the bearer token is not a JWT (three base64url segments separated by dots)')
      const [headerSegment, payloadSegment, signatureSegment] = segments as [string, string, string]
      const header = decodeJsonSegment(headerSegment, 'header')
      // A critical extension we do not implement must make the token unusable (RFC 7515 §4.1.11).
      if (header.crit !== undefined) throw unauthenticated('the token declares critical header extensions this API does not support')
      checkSignature(header, `${headerSegment}.${payloadSegment}`, Buffer.from(signatureSegment, 'base64url'))

      const payload = decodeJsonSegment(payloadSegment, 'payload')
      const nowMs = clock.nowMs()
      const expiresAtMs = optionalNumericDate(payload, 'exp')
      if (expiresAtMs === null) throw unauthenticated('the token has no expiry (exp); ask the identity provider for an access token')
      if (nowMs > expiresAtMs + clockSkewMs) throw unauthenticated(`the token expired at ${new Date(expiresAtMs).toISOString()}; get a new one`)
      const notBeforeMs = optionalNumericDate(payload, 'nbf')
      if (notBeforeMs !== null && nowMs < notBeforeMs - clockSkewMs) throw unauthenticated(`the token is not valid before ${new Date(notBeforeMs).toISOString()}; check the clocks of this host and the identity provider`)
      const issuedAtMs = optionalNumericDate(payload, 'iat')
      if (issuedAtMs !== null && nowMs < issuedAtMs - clockSkewMs) throw unauthenticated(`the token was issued in the future (${new Date(issuedAtMs).toISOString()}); check the clocks of this host and the identity provider`)
      if (payload.iss !== options.issuer) throw unauthenticated(`the token issuer is not '${options.issuer}'`)
      const audiences = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : []
      if (!audiences.includes(options.audience)) throw unauthenticated(`the token audience does not include '${options.audience}'`)
      if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > 256) throw unauthenticated('the token has no subject (sub)')
      return Object.freeze({
        subject: payload.sub,
        roles: Object.freeze(rolesOf(payload)),
        issuer: options.issuer,
        expiresAtMs,
        tokenId: typeof payload.jti === 'string' ? payload.jti : null,
      })
    },
  }
}

function checkedRsaKey(key: KeyObject, source: string): KeyObject {
  if (key.asymmetricKeyType !== 'rsa') throw new RiskError('RISK_ERR_CONFIG_INVALID', `${source} holds a ${String(key.asymmetricKeyType)} key; RS256 needs RSA public keys`)
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
  if (bits < MIN_RSA_MODULUS_BITS) throw new RiskError('RISK_ERR_CONFIG_INVALID', `${source} holds a ${bits}-bit RSA key; RS256 keys must have at least ${MIN_RSA_MODULUS_BITS} bits`)
  return key
}

/**
 * Public keys from text: a JWKS (`{ "keys": [...] }`), a single JWK, or one or more PEM blocks
 * (public keys or certificates). JWKS entries that are not RSA signing keys (EC, `use: enc`,
 * another `alg`) are skipped, since providers publish them side by side.
 */
export function parsePublicKeys(text: string, source: string): VerificationKey[] {
  const trimmed = text.trim()
  const invalid = (why: string): RiskError => new RiskError('RISK_ERR_CONFIG_INVALID', `${source}: ${why}; give a JWKS file or PEM public keys (PITBOSS_API_JWT_PUBLIC_KEYS_FILE)`, { source })
  if (trimmed.startsWith('{')) {
    let document: { keys?: unknown } & JsonWebKey
    try {
      document = JSON.parse(trimmed) as typeof document
    } catch {
      throw invalid('not valid JSON')
    }
    const entries: unknown[] = Array.isArray(document.keys) ? document.keys : [document]
    const keys: VerificationKey[] = []
    for (const entry of entries) {
      if (entry === null || typeof entry !== 'object') continue
      const jwk = entry as JsonWebKey & { kid?: unknown }
      if (jwk.kty !== 'RSA' || (jwk.use !== undefined && jwk.use !== 'sig') || (jwk.alg !== undefined && jwk.alg !== 'RS256')) continue
      let key: KeyObject
      try {
        key = createPublicKey({ key: jwk, format: 'jwk' })
      } catch (error) {
        throw invalid(`key ${String(jwk.kid ?? keys.length)} is not a valid RSA JWK (${(error as Error).message})`)
      }
      keys.push({ kid: typeof jwk.kid === 'string' ? jwk.kid : null, key: checkedRsaKey(key, source) })
    }
    if (keys.length === 0) throw invalid('no RSA signing key (kty RSA, use sig, alg RS256) in the JWKS')
    return keys
  }
  const blocks = trimmed.match(/-----BEGIN (?:PUBLIC KEY|RSA PUBLIC KEY|CERTIFICATE)-----[\s\S]+?-----END (?:PUBLIC KEY|RSA PUBLIC KEY|CERTIFICATE)-----/g) ?? []
  if (blocks.length === 0) throw invalid('no PEM public key or certificate block')
  return blocks.map((block) => {
    let key: KeyObject
    try {
      key = createPublicKey(block)
    } catch (error) {
      throw invalid(`a PEM block could not be read (${(error as Error).message})`)
    }
    return { kid: null, key: checkedRsaKey(key, source) }
  })
}

/** `parsePublicKeys` over a file (read once, at start). */
export function loadPublicKeysFile(filePath: string): VerificationKey[] {
  let text: string
  try {
    text = fs.readFileSync(filePath, 'utf8')
  } catch (error) {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `cannot read the public keys file ${filePath} (PITBOSS_API_JWT_PUBLIC_KEYS_FILE): ${(error as Error).message}`, { file: filePath })
  }
  return parsePublicKeys(text, filePath)
}

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), or null if it has none. */
export function bearerToken(authorization: string | undefined): string | null {
  if (authorization === undefined) return null
  const match = /^Bearer +([^\s]+) *$/i.exec(authorization)
  return match === null ? null : (match[1] ?? null)
}
