/**
 * Mints an access token for the demo and for trying the API by hand:
 *
 *   npx tsx api/token.ts --role aml_officer --sub alice
 *   curl -H "Authorization: Bearer $(npx tsx api/token.ts --role aml_officer --sub alice)" http://127.0.0.1:8080/me
 *
 * Signs HS256 with the configured secret (PITBOSS_API_JWT_HS256_SECRET) unless given
 * `--secret-file` or `--private-key-file` (RS256, with `--kid`). Issuer and audience default to
 * the configured ones so the token passes this API's checks. Options: --role (repeatable),
 * --sub, --ttl-seconds (default 3600), --issuer, --audience, --keycloak (roles in realm_access).
 */
import fs from 'node:fs'
import { parseArgs } from 'node:util'
import { systemClock } from '../core/clock.js'
import { loadConfig } from '../core/config.js'
import { RiskError } from '../core/errors.js'
import { ALL_API_ROLES, isApiRole } from './roles.js'
import { apiSettings } from './settings.js'
import { mintAccessToken, type SigningKey } from './tokens.js'

function run(argv: readonly string[]): string {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      role: { type: 'string', multiple: true },
      sub: { type: 'string' },
      'ttl-seconds': { type: 'string', default: '3600' },
      issuer: { type: 'string' },
      audience: { type: 'string' },
      'secret-file': { type: 'string' },
      'private-key-file': { type: 'string' },
      kid: { type: 'string' },
      keycloak: { type: 'boolean', default: false },
    },
  })
  const usage = (why: string): RiskError => new RiskError('RISK_ERR_REQUEST_INVALID', `${why}\nusage: npx tsx api/token.ts --role <${ALL_API_ROLES.join('|')}> [--role ...] --sub <subject> [--ttl-seconds 3600] [--secret-file f | --private-key-file f --kid k]`)
  const roles = values.role ?? []
  if (roles.length === 0) throw usage('give at least one --role')
  const unknown = roles.filter((role) => !isApiRole(role))
  if (unknown.length > 0) throw usage(`unknown role ${unknown.join(', ')}`)
  if (values.sub === undefined || values.sub === '') throw usage('give --sub, the subject (user name)')
  const ttlSeconds = Number(values['ttl-seconds'])
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) throw usage('--ttl-seconds must be a positive integer')

  const { jwt } = apiSettings(loadConfig())
  let key: SigningKey
  if (values['private-key-file'] !== undefined) {
    key = { algorithm: 'RS256', privateKey: fs.readFileSync(values['private-key-file'], 'utf8'), ...(values.kid === undefined ? {} : { kid: values.kid }) }
  } else if (values['secret-file'] !== undefined) {
    key = { algorithm: 'HS256', secret: fs.readFileSync(values['secret-file'], 'utf8').trim() }
  } else if (jwt.hs256Secret !== null) {
    key = { algorithm: 'HS256', secret: jwt.hs256Secret }
  } else {
    throw usage('no signing key: set PITBOSS_API_JWT_HS256_SECRET (as the API does) or pass --secret-file / --private-key-file')
  }
  return mintAccessToken({
    subject: values.sub,
    roles: roles.filter(isApiRole),
    issuer: values.issuer ?? jwt.issuer,
    audience: values.audience ?? jwt.audience,
    nowMs: systemClock.nowMs(),
    lifetimeMs: ttlSeconds * 1000,
    key,
    keycloakStyle: values.keycloak,
  })
}

try {
  process.stdout.write(`${run(process.argv.slice(2))}\n`)
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`)
  process.exitCode = 2
}
