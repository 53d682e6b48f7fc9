/// <reference lib="dom" />
/**
 * Login: the officer pastes the OAuth2 access token their identity provider issued (or arrives
 * with `#access_token=` from a redirect). The token is only kept in sessionStorage and checked
 * against `GET /me` by the next page load; a refused token comes back here with the reason.
 */
import { takeLoginReason } from '../api-client.js'
import { element, replace } from '../dom.js'

export function renderLogin(main: HTMLElement, onToken: (token: string) => Promise<void>): void {
  const reason = takeLoginReason()
  const input = element('textarea', { class: 'token', id: 'token', name: 'token', placeholder: 'eyJhbGciOi…', autocomplete: 'off', spellcheck: 'false', 'aria-label': 'Access token' })
  const submit = (): void => {
    const token = input.value.trim().replace(/^Bearer\s+/i, '')
    if (token !== '') void onToken(token)
  }
  replace(main, element('section', { class: 'panel login' },
    element('h1', {}, 'Log in'),
    reason === null ? null : element('p', { class: 'banner', 'data-testid': 'login-reason' }, reason),
    element('p', { class: 'muted' }, 'Paste your OAuth2 access token (a JWT with the aml_officer or compliance_officer role). It stays in this tab only and is sent with every request.'),
    element('label', { for: 'token' }, 'Access token', input),
    element('div', { class: 'actions' }, element('button', { type: 'button', id: 'login', onclick: submit }, 'Log in'))))
  input.focus()
}
