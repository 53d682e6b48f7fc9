/**
 * The API's settings, from the loaded config (core/config.ts reads the PITBOSS_API_* variables
 * listed in docs/api.md). Without a secret or a keys file, token verification has no key and
 * every protected route answers 401 rather than being open.
 *
 * Example: `const settings = apiSettings(loadConfig())` -> { jwt: { issuer: 'pitboss-dev', ... }, auditFile: '.pitboss/audit/api-audit.jsonl', ... }
 */
import type { PitbossConfig } from '../core/config.js'
import type { RateLimitOptions } from './rate-limit.js'

export interface ApiJwtSettings {
  /** PITBOSS_API_JWT_HS256_SECRET; null = HS256 refused. */
  readonly hs256Secret: string | null
  /** PITBOSS_API_JWT_PUBLIC_KEYS_FILE (PEM or JWKS); null = RS256 refused. */
  readonly publicKeysFile: string | null
  /** PITBOSS_API_JWT_ISSUER, default 'pitboss-dev'. */
  readonly issuer: string
  /** PITBOSS_API_JWT_AUDIENCE, default 'pitboss-api'. */
  readonly audience: string
  /** PITBOSS_API_JWT_CLOCK_SKEW_MS, default 30 s. */
  readonly clockSkewMs: number
}

export interface ApiSettings {
  readonly jwt: ApiJwtSettings
  /** PITBOSS_API_RATE_LIMIT_{SUBJECT,IP}_{BURST,PER_SECOND}. */
  readonly rateLimits: RateLimitOptions
  /** PITBOSS_API_AUDIT_FILE, default `$PITBOSS_HOME/audit/api-audit.jsonl`. */
  readonly auditFile: string
}

export function apiSettings(config: PitbossConfig): ApiSettings {
  return { jwt: config.api.jwt, rateLimits: config.api.rateLimits, auditFile: config.api.auditFile }
}

/** Whether any verification key is configured (without one, buildApp gets no `auth`). */
export function hasVerificationKeys(jwt: ApiJwtSettings): boolean {
  return jwt.hs256Secret !== null || jwt.publicKeysFile !== null
}
