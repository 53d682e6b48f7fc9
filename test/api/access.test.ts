import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../api/app.js'
import { API_ROLES } from '../../api/roles.js'
import { bearer, buildBareTestApp, START_MS, tokenFor, type TestApp } from './helpers.js'

describe('access control', () => {
  let test: TestApp
  beforeAll(async () => {
    test = await buildBareTestApp()
    test.app.get('/rule-sets', { config: { roles: [API_ROLES.rulesAdmin, API_ROLES.complianceOfficer] } }, async () => ({ ruleSets: [] }))
  })
  afterAll(async () => test.close())

  it('lets a caller with one of the declared roles through', async () => {
    const response = await test.app.inject({ url: '/rule-sets', headers: bearer(tokenFor(['compliance_officer'])) })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ ruleSets: [] })
  })

  it('answers 401 with a Bearer challenge for no token, a malformed header or a bad token', async () => {
    const none = await test.app.inject({ url: '/rule-sets' })
    expect(none.statusCode).toBe(401)
    expect(none.json()).toEqual({ error: { code: 'RISK_ERR_UNAUTHENTICATED', message: 'no bearer token: send `Authorization: Bearer <access token>`' } })
    expect(none.headers['www-authenticate']).toBe('Bearer realm="pitboss"')
    const basic = await test.app.inject({ url: '/rule-sets', headers: { authorization: 'Basic YWxpY2U6cGFzcw==' } })
    expect(basic.statusCode).toBe(401)
    expect(basic.json().error.message).toContain('not `Bearer <access token>`')
    const expired = await test.app.inject({ url: '/rule-sets', headers: bearer(tokenFor(['rules_admin'], 'alice', START_MS - 2 * 3_600_000)) })
    expect(expired.statusCode).toBe(401)
    expect(expired.json().error.message).toMatch(/^the token expired at .*; get a new one$/)
    expect(expired.headers['www-authenticate']).toMatch(/^Bearer realm="pitboss", error="invalid_token", error_description="the token expired/)
  })

  it('keeps caller-chosen token fields out of the challenge header (no 5xx from a hostile alg)', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'HS256\r\nSet-Cookie: x=1 "é"' })).toString('base64url')
    const response = await test.app.inject({ url: '/rule-sets', headers: bearer(`${header}.e30.AA`) })
    expect(response.statusCode).toBe(401)
    expect(response.headers['www-authenticate']).toBe('Bearer realm="pitboss", error="invalid_token", error_description="token algorithm \'HS256??Set-Cookie: x=1 ???\' is not accepted; use RS256 or HS256"')
    expect(response.headers['set-cookie']).toBeUndefined()
  })

  it('answers 403 naming the roles needed when the token has none of them', async () => {
    const response = await test.app.inject({ url: '/rule-sets', headers: bearer(tokenFor(['aml_officer', 'regulator_read'], 'bob')) })
    expect(response.statusCode).toBe(403)
    expect(response.json()).toEqual({ error: { code: 'RISK_ERR_FORBIDDEN', message: "GET /rule-sets needs one of the roles rules_admin, compliance_officer; 'bob' has aml_officer, regulator_read" } })
    expect(response.headers['www-authenticate']).toContain('error="insufficient_scope"')
    const noRoles = await test.app.inject({ url: '/rule-sets', headers: bearer(tokenFor([], 'carol')) })
    expect(noRoles.statusCode).toBe(403)
    expect(noRoles.json().error.message).toContain("'carol' has none")
  })

  it('keeps public routes and the coded 404 open, even with a bad token', async () => {
    for (const url of ['/health', '/ready', '/metrics', '/openapi.json']) {
      expect((await test.app.inject({ url, headers: bearer('junk') })).statusCode, url).toBe(200)
    }
    const missing = await test.app.inject({ url: '/nowhere' })
    expect(missing.statusCode).toBe(404)
    expect(missing.json().error.code).toBe('PITBOSS_API_NOT_FOUND')
  })

  it('fails closed without token verification configured: every protected route answers 401', async () => {
    const app = buildApp({ metrics: new Registry(), version: 'test', checks: {} })
    const response = await app.inject({ url: '/me', headers: bearer(tokenFor(['aml_officer'])) })
    expect(response.statusCode).toBe(401)
    expect(response.json().error.message).toContain('no token verification configured')
    expect((await app.inject({ url: '/health' })).statusCode).toBe(200)
    await app.close()
  })
})
