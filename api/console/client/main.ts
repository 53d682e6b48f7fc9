/// <reference lib="dom" />
/**
 * The console's entry point: a hash router over the pages (one HTML page, so a deep link such
 * as `/console/#/cases/CASE-00000001` works without server routes), the header with who is
 * logged in, and the banner for errors and confirmations.
 *
 *   #/login                  paste a token (or arrive with #access_token=... from an OAuth2 redirect)
 *   #/cases?status&assigneeId&priority   the queue, sorted by SLA due time
 *   #/cases/<caseId>         the case: actions, checklist, explanations, timeline, cluster graph
 *   #/rule-sets              rule-set history and diffs
 *   #/str/<draftId>          an STR draft: edit, preview, approve, export
 */
import { logout, storeToken, storedToken } from './api-client.js'
import { element, replace } from './dom.js'
import { reportError, setReloader, showBanner } from './feedback.js'
import { currentOfficer, forgetOfficer, type Officer } from './session.js'
import { renderCase } from './pages/case-detail.js'
import { killActiveGraph } from './pages/cluster-graph.js'
import { renderLogin } from './pages/login.js'
import { renderQueue } from './pages/queue.js'
import { renderRuleSets } from './pages/rule-sets.js'
import { renderStr } from './pages/str.js'

let officer: Officer | null = null
let renderCount = 0

function renderHeader(): void {
  const who = document.getElementById('who')
  const nav = document.getElementById('nav')
  if (who === null || nav === null) return
  nav.hidden = officer === null
  if (officer === null) {
    replace(who)
    return
  }
  replace(who, element('span', { 'data-testid': 'who' }, `${officer.subject} · ${officer.roles.join(', ')}`), element('button', { type: 'button', id: 'logout', onclick: () => { forgetOfficer(); officer = null; logout(null) } }, 'Log out'))
}

/** Route of the current hash: path parts and query. */
function currentRoute(): { parts: string[]; query: URLSearchParams } {
  const hash = location.hash.replace(/^#/, '')
  const [path = '', search = ''] = hash.split('?')
  return { parts: path.split('/').filter((part) => part !== '').map(decodeURIComponent), query: new URLSearchParams(search) }
}

async function route(options: { keepBanner?: boolean } = {}): Promise<void> {
  const main = document.getElementById('main')
  if (main === null) return
  const render = ++renderCount
  // The graph listens to window resizes: stop it before its container leaves the page.
  killActiveGraph()
  if (options.keepBanner !== true) showBanner(null)
  // A token handed over in the fragment (OAuth2 implicit redirect, or a link an admin gave):
  // keep it, and take it out of the address bar and history at once.
  const handed = /^#access_token=([^&]+)/.exec(location.hash)
  if (handed?.[1] !== undefined) {
    storeToken(decodeURIComponent(handed[1]))
    history.replaceState(null, '', `${location.pathname}#/cases`)
  }
  const { parts, query } = currentRoute()
  if (parts[0] === 'login' || storedToken() === null) {
    officer = null
    forgetOfficer()
    renderHeader()
    if (parts[0] !== 'login') {
      location.hash = '#/login'
      return
    }
    renderLogin(main, async (token) => {
      storeToken(token)
      forgetOfficer()
      location.hash = '#/cases'
    })
    return
  }
  try {
    officer = await currentOfficer()
    renderHeader()
    // A reload after an action keeps the page until the new one is ready (no flicker, no lost scroll).
    if (options.keepBanner !== true) replace(main, element('p', { class: 'muted' }, 'Loading…'))
    // A page still loading when the officer navigates away must not draw over the next one.
    const stillCurrent = (): boolean => render === renderCount
    if (parts[0] === 'cases' && parts[1] !== undefined) await renderCase(main, parts[1], stillCurrent)
    else if (parts[0] === 'rule-sets') await renderRuleSets(main, query, stillCurrent)
    else if (parts[0] === 'str' && parts[1] !== undefined) await renderStr(main, parts[1], stillCurrent)
    else await renderQueue(main, query, stillCurrent)
  } catch (error) {
    if (render === renderCount) reportError(error)
  }
}

setReloader(() => route({ keepBanner: true }))

window.addEventListener('hashchange', () => { void route() })
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => { void route() })
else void route()
