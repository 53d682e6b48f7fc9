/// <reference lib="dom" />
/**
 * The banner above every page (errors in words an officer can act on, confirmations) and the
 * page reload after an action. Kept apart from main.ts so pages do not import the router.
 *
 * Example:
 *   try { await api('POST', url, body); showBanner('Claimed.', 'info'); await reloadPage() } catch (error) { reportError(error) }
 */
import { ApiError } from './api-client.js'

let reloader: () => Promise<void> = async () => {}

/** Set once by the router. */
export function setReloader(reload: () => Promise<void>): void {
  reloader = reload
}

/** Re-draws the current page, keeping the banner. */
export function reloadPage(): Promise<void> {
  return reloader()
}

/** Shows an error (or, with `info`, a confirmation) above the page; null hides it. */
export function showBanner(message: string | null, kind: 'error' | 'info' = 'error'): void {
  const banner = document.getElementById('banner')
  if (banner === null) return
  banner.hidden = message === null
  banner.className = kind === 'info' ? 'banner info' : 'banner'
  banner.dataset.kind = kind
  banner.textContent = message ?? ''
}

/** Shows what went wrong; a 401 has already sent the officer to login. */
export function reportError(error: unknown): void {
  if (error instanceof ApiError) {
    if (error.status === 401) return
    const hint = error.status === 403 ? ' (your roles do not allow this)' : error.status === 409 ? ' (it changed meanwhile: the page was reloaded, check and try again)' : ''
    showBanner(`${error.code}: ${error.message}${hint}`)
    return
  }
  showBanner(`Unexpected error: ${error instanceof Error ? error.message : String(error)}`)
}

/** Runs an officer's action: shows `done` on success, the coded error otherwise; reloads either way (a 409 needs the new version). */
export async function runAction(action: () => Promise<unknown>, done: string): Promise<boolean> {
  let succeeded = false
  try {
    await action()
    succeeded = true
  } catch (error) {
    reportError(error)
    if (!(error instanceof ApiError) || error.status !== 409) return false
  }
  await reloadPage()
  if (succeeded) showBanner(done, 'info')
  return succeeded
}
