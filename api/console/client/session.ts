/// <reference lib="dom" />
/**
 * Who is logged in: `GET /me` for the stored token, fetched once per token. The pages use it to
 * offer only what the officer's roles allow (the API enforces the roles regardless).
 */
import { api } from './api-client.js'

export interface Officer {
  readonly subject: string
  readonly roles: readonly string[]
  readonly expiresAt: string
}

let officer: Promise<Officer> | null = null

export function currentOfficer(): Promise<Officer> {
  officer ??= api<Officer>('GET', '/me').catch((error: unknown) => {
    officer = null
    throw error
  })
  return officer
}

/** Forget the officer (logout, a new token). */
export function forgetOfficer(): void {
  officer = null
}

export function hasRole(who: Officer, role: string): boolean {
  return who.roles.includes(role)
}
