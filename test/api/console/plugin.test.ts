/**
 * The console's routes through app.inject(): served only when enabled, public (no token), with a
 * Content-Security-Policy that allows no inline code, a page without inline script or style, a
 * bundle that contains the client (sigma included) and revalidates by ETag.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONSOLE_CONTENT_SECURITY_POLICY, CONSOLE_ROUTES } from '../../../api/console/plugin.js'
import { registeredRoutes } from '../../../api/route-config.js'
import { buildTestApp, type TestApp } from '../helpers.js'

let test: TestApp
beforeAll(async () => {
  test = await buildTestApp({ console: { enabled: true } })
  await test.app.ready()
})
afterAll(async () => test?.close())

describe('console routes', () => {
  it('registers its four routes as public and answers them without a token', async () => {
    const console = registeredRoutes(test.app).filter((route) => route.url.startsWith('/console') && route.method === 'GET')
    expect(console.map((route) => `${route.method} ${route.url}`).sort()).toEqual([...CONSOLE_ROUTES].sort())
    expect(console.every((route) => route.access === 'public')).toBe(true)
    const redirect = await test.app.inject({ url: '/console' })
    expect([redirect.statusCode, redirect.headers.location]).toEqual([302, '/console/'])
  })

  it('serves the page with a strict CSP and no inline script, style or handler', async () => {
    const page = await test.app.inject({ url: '/console/' })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.headers['content-security-policy']).toBe(CONSOLE_CONTENT_SECURITY_POLICY)
    expect(CONSOLE_CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval/)
    expect(page.headers['x-content-type-options']).toBe('nosniff')
    expect(page.headers['cache-control']).toBe('no-store')
    const scripts = [...page.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)]
    expect(scripts.map((match) => [match[1]?.trim(), match[2]?.trim()])).toEqual([['src="/console/console.js" defer', '']])
    expect(page.body).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i)
  })

  it('serves the bundle (client and sigma) with an ETag, 304 when unchanged, and the stylesheet', async () => {
    const script = await test.app.inject({ url: '/console/console.js' })
    expect(script.statusCode).toBe(200)
    expect(script.headers['content-type']).toMatch(/^text\/javascript/)
    expect(script.body.length).toBeGreaterThan(50_000)
    expect(script.body).toContain('pitboss.console.accessToken')
    expect(script.body).toMatch(/WebGL|webgl/)
    const etag = String(script.headers.etag)
    expect((await test.app.inject({ url: '/console/console.js', headers: { 'if-none-match': etag } })).statusCode).toBe(304)
    const style = await test.app.inject({ url: '/console/console.css' })
    expect([style.statusCode, style.headers['content-type']]).toEqual([200, 'text/css; charset=utf-8'])
  })

  it('is not served when the console is not enabled', async () => {
    const plain = await buildTestApp()
    try {
      const response = await plain.app.inject({ url: '/console/' })
      expect([response.statusCode, response.json().error.code]).toEqual([404, 'PITBOSS_API_NOT_FOUND'])
    } finally {
      await plain.close()
    }
  })
})
