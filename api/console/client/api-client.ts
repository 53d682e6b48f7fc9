/// <reference lib="dom" />
/**
 * The console's only way to the API: every call sends the officer's bearer token (kept in
 * sessionStorage, so it dies with the tab), and a 401 sends the officer back to the login page
 * with the reason. Errors arrive as the API's coded body `{ error: { code, message } }`.
 *
 * Example:
 *   const { cases } = await api<{ cases: CaseRecord[] }>('GET', '/cases?status=OPEN')
 *   await api('POST', `/cases/${caseId}/claim`, { expectedVersion: 3 })
 */

const TOKEN_KEY = 'pitboss.console.accessToken'
const LOGIN_REASON_KEY = 'pitboss.console.loginReason'

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message)
    this.name = 'ApiError'
  }
}

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY)
}

export function storeToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token)
  sessionStorage.removeItem(LOGIN_REASON_KEY)
}

/** Forgets the token and shows the login page, with why when there is a reason. */
export function logout(reason: string | null): void {
  sessionStorage.removeItem(TOKEN_KEY)
  if (reason === null) sessionStorage.removeItem(LOGIN_REASON_KEY)
  else sessionStorage.setItem(LOGIN_REASON_KEY, reason)
  if (location.hash !== '#/login') location.hash = '#/login'
}

/** Why the officer was sent to login (an expired token...), read once. */
export function takeLoginReason(): string | null {
  const reason = sessionStorage.getItem(LOGIN_REASON_KEY)
  sessionStorage.removeItem(LOGIN_REASON_KEY)
  return reason
}

/** Calls the API with the token; throws ApiError with the API's code and message. */
export async function api<T = unknown>(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<T> {
  const token = storedToken()
  if (token === null) {
    logout('Log in to continue.')
    throw new ApiError(401, 'RISK_ERR_UNAUTHENTICATED', 'not logged in')
  }
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(path, { method, headers, body: body === undefined ? null : JSON.stringify(body), credentials: 'omit', cache: 'no-store' })
  const text = await response.text()
  let parsed: unknown = null
  try {
    parsed = text === '' ? null : JSON.parse(text)
  } catch {
    parsed = null
  }
  if (response.ok) return parsed as T
  const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error
  const code = error?.code ?? `HTTP_${response.status}`
  const message = error?.message ?? (text.slice(0, 200) || response.statusText)
  if (response.status === 401) logout(`The API refused the token: ${message}`)
  throw new ApiError(response.status, code, message)
}

/** Path segment, escaped. */
export const segment = (value: string): string => encodeURIComponent(value)
