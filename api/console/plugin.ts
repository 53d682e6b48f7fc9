/**
 * The AML console (issue 8, item 4): pages for officers, served by the API under `/console/`.
 *
 *   GET /console              -> 302 /console/
 *   GET /console/             the page (index.html): login, case queue, case detail with the
 *                             cluster graph, rule-set history with diffs, STR drafts
 *   GET /console/console.js   the one script, bundled from api/console/client/ (bundle.ts)
 *   GET /console/console.css  the one stylesheet
 *
 * These are static assets without data, so they are public routes (listed in PUBLIC_ROUTES,
 * api/route-config.ts, as a documented exception): a browser cannot attach a bearer token to a
 * navigation. Every piece of case or player data comes from the protected API routes, fetched by
 * the script with the officer's token (kept in sessionStorage), so the roles and the audit log
 * apply exactly as for any other client. The pages carry a Content-Security-Policy without
 * 'unsafe-inline': scripts and styles come only from these files, data only from this origin.
 *
 * Example:
 *   const app = buildApp({ ...deps, console: { enabled: true } })
 *   await app.listen({ port: 0, host: '127.0.0.1' })   // open http://127.0.0.1:<port>/console/
 */
import fs from 'node:fs'
import type { FastifyInstance, FastifyReply, FastifySchema } from 'fastify'
import type { DocumentedSchema } from '../route-config.js'
import { buildConsoleBundle, type ConsoleBundle } from './bundle.js'

export interface ConsoleOptions {
  /** Serve the console; false = no console route is registered. */
  readonly enabled: boolean
}

/** The console's routes, as `METHOD url` (each is in PUBLIC_ROUTES). */
export const CONSOLE_ROUTES: readonly string[] = Object.freeze(['GET /console', 'GET /console/', 'GET /console/console.js', 'GET /console/console.css'])

/**
 * No inline script or style, no eval, no plugins, no framing; fetches only to this origin.
 * `img-src data: blob:` lets sigma and the export link use in-page images.
 */
export const CONSOLE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const PAGE_FILE = new URL('./index.html', import.meta.url)
const STYLE_FILE = new URL('./console.css', import.meta.url)

function withPageHeaders(reply: FastifyReply, contentType: string): FastifyReply {
  return reply
    .type(contentType)
    .header('content-security-policy', CONSOLE_CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cross-origin-opener-policy', 'same-origin')
}

/** OpenAPI summary and tag (fastify's own schema type leaves those keys out). */
const schema = (summary: string): FastifySchema => ({ summary, tags: ['console'] }) as DocumentedSchema

/** Registers the console routes when `options.enabled`; the bundle is built before the app is ready. */
export function registerConsoleRoutes(app: FastifyInstance, options: ConsoleOptions): void {
  if (!options.enabled) return
  // Read once: the files ship with the code and do not change while the API runs.
  const page = fs.readFileSync(PAGE_FILE, 'utf8')
  const style = fs.readFileSync(STYLE_FILE, 'utf8')
  let bundle: ConsoleBundle | null = null
  app.addHook('onReady', async () => {
    bundle = await buildConsoleBundle()
  })

  app.get('/console', { schema: schema('The AML console: redirects to /console/') }, async (_request, reply) => reply.redirect('/console/', 302))
  app.get('/console/', { schema: schema('The AML console page (public asset; its data comes from the protected routes with the officer\'s token)') }, async (_request, reply) =>
    // The page is tiny and must always match the script it loads: never cached.
    withPageHeaders(reply, 'text/html; charset=utf-8').header('cache-control', 'no-store').send(page))
  app.get('/console/console.css', { schema: schema('The AML console stylesheet') }, async (_request, reply) =>
    withPageHeaders(reply, 'text/css; charset=utf-8').header('cache-control', 'no-cache').send(style))
  app.get('/console/console.js', { schema: schema('The AML console script (bundled at API start)') }, async (request, reply) => {
    // onReady has run before any request is served; the fallback covers an app used without ready().
    const current = bundle ?? (bundle = await buildConsoleBundle())
    withPageHeaders(reply, 'text/javascript; charset=utf-8').header('cache-control', 'no-cache').header('etag', current.etag)
    if (request.headers['if-none-match'] === current.etag) return reply.code(304).send()
    return reply.send(current.javascript)
  })
}
