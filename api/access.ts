/**
 * Who may call what: the onRequest hook that verifies the bearer token, applies the rate limit
 * and enforces the route's declared roles (route-config.ts), before the body is even parsed.
 *
 * Order, and why:
 * 1. the token, when there is one, is verified, so the limit can key on its subject;
 * 2. the rate limit: per subject, or per IP for callers without a valid token (so guessing
 *    tokens is throttled too) -> 429 RISK_ERR_RATE_LIMITED with Retry-After;
 * 3. public routes and unknown URLs (the coded 404) stop checking here;
 * 4. no valid token -> 401 RISK_ERR_UNAUTHENTICATED with `WWW-Authenticate: Bearer` (RFC 6750);
 * 5. none of the route's roles -> 403 RISK_ERR_FORBIDDEN.
 *
 * Example: `installAccessControl(app, { verifier: null, rateLimits: DEFAULT_RATE_LIMITS, clock })`
 * serves only public routes (every protected one answers 401): the API fails closed unconfigured.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { Clock } from '../core/clock.js'
import { isRiskError } from '../core/errors.js'
import { RISK_ERR_RATE_LIMITED, replyWithError } from './http-errors.js'
import { bearerToken, type Principal, type TokenVerifier } from './jwt.js'
import { TokenBucketLimiter, type RateLimitOptions } from './rate-limit.js'
import { isPublicRoute } from './route-config.js'

export interface AccessControlOptions {
  /** null: no token verification configured; every protected route answers 401. */
  readonly verifier: TokenVerifier | null
  readonly rateLimits: RateLimitOptions
  readonly clock: Clock
}

function challenge(reply: FastifyReply, error: 'invalid_token' | 'insufficient_scope' | null, description: string): FastifyReply {
  // RFC 6750 §3: no `error` attribute when the request simply carried no token.
  // The description can echo token fields (alg, kid) chosen by the caller: keep it to printable
  // ASCII without quotes, or setting the header would throw and turn bad input into a 500.
  const safeDescription = description.replace(/[^\x20-\x7e]|["\\]/g, '?').slice(0, 300)
  const attributes = error === null ? 'Bearer realm="pitboss"' : `Bearer realm="pitboss", error="${error}", error_description="${safeDescription}"`
  return reply.header('www-authenticate', attributes)
}

export function installAccessControl(app: FastifyInstance, options: AccessControlOptions): void {
  const bySubject = new TokenBucketLimiter(options.rateLimits.subject, options.clock)
  const byAddress = new TokenBucketLimiter(options.rateLimits.ip, options.clock)
  app.decorateRequest('principal', null)

  app.addHook('onRequest', async (request, reply) => {
    const header = request.headers.authorization
    const token = bearerToken(header)
    let principal: Principal | null = null
    let rejection = header === undefined ? 'no bearer token: send `Authorization: Bearer <access token>`' : 'the Authorization header is not `Bearer <access token>`'
    if (token !== null) {
      if (options.verifier === null) {
        rejection = 'this API has no token verification configured (PITBOSS_API_JWT_*), so it accepts no token'
      } else {
        try {
          principal = options.verifier.verify(token)
        } catch (error) {
          if (!isRiskError(error, 'RISK_ERR_UNAUTHENTICATED')) throw error
          rejection = error.message.replace(/^RISK_ERR_UNAUTHENTICATED: /, '')
        }
      }
    }
    request.principal = principal

    const decision = principal === null ? byAddress.take(request.ip) : bySubject.take(`sub:${principal.subject}`)
    if (!decision.allowed) {
      const retryAfterSeconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000))
      reply.header('retry-after', String(retryAfterSeconds))
      return replyWithError(reply, 429, RISK_ERR_RATE_LIMITED, `too many requests from ${principal === null ? 'this address' : `'${principal.subject}'`}; retry in ${retryAfterSeconds} s`)
    }

    const url = request.routeOptions.url
    if (request.is404 || url === undefined || isPublicRoute(request.method, url)) return
    if (principal === null) {
      return replyWithError(challenge(reply, token === null ? null : 'invalid_token', rejection), 401, 'RISK_ERR_UNAUTHENTICATED', rejection)
    }
    // route-config.ts guarantees every non-public route declares a non-empty roles list.
    const allowed = request.routeOptions.config.roles ?? []
    if (!principal.roles.some((role) => allowed.includes(role))) {
      const message = `${request.method} ${url} needs one of the roles ${allowed.join(', ')}; '${principal.subject}' has ${principal.roles.length === 0 ? 'none' : principal.roles.join(', ')}`
      return replyWithError(challenge(reply, 'insufficient_scope', message), 403, 'RISK_ERR_FORBIDDEN', message)
    }
  })
}
