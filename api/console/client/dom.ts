/// <reference lib="dom" />
/**
 * Building the console's DOM without HTML strings: every text goes through textContent, so a
 * player id or a comment can never become markup (and the CSP forbids inline code anyway).
 *
 * Example:
 *   element('a', { href: '#/cases/CASE-1', class: 'case-link' }, 'CASE-1')
 *   table(['Case', 'Due'], rows.map((row) => [row.caseId, formatTime(row.dueAtMs)]))
 */

export type Child = Node | string | number | null | undefined | false
export type Attributes = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>

/** `<tag ...attributes>children</tag>`; `on<event>` attributes become listeners, `false`/null ones are left out. */
export function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue
    if (typeof value === 'function') node.addEventListener(name.slice(2).toLowerCase(), value)
    else if (value === true) node.setAttribute(name, '')
    else node.setAttribute(name, String(value))
  }
  append(node, ...children)
  return node
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child)
  }
}

/** A table with a header row; an empty body shows `empty` in one cell. */
export function table(headers: readonly string[], rows: readonly (readonly Child[])[], empty = 'none'): HTMLTableElement {
  const head = element('thead', {}, element('tr', {}, ...headers.map((header) => element('th', {}, header))))
  const body = element('tbody')
  if (rows.length === 0) body.appendChild(element('tr', {}, element('td', { colspan: headers.length, class: 'muted' }, empty)))
  for (const row of rows) body.appendChild(element('tr', {}, ...row.map((cell) => element('td', {}, cell))))
  return element('table', {}, head, body)
}

/** A titled panel. */
export function panel(title: string, ...children: Child[]): HTMLElement {
  return element('section', { class: 'panel' }, element('h2', {}, title), ...children)
}

export function badge(text: string): HTMLElement {
  return element('span', { class: `badge ${text}` }, text)
}

/** Definition list of label -> value. */
export function facts(entries: ReadonlyArray<readonly [string, Child]>): HTMLElement {
  const list = element('dl', { class: 'facts' })
  for (const [label, value] of entries) append(list, element('dt', {}, label), element('dd', {}, value ?? '—'))
  return list
}

export function formatTime(epochMs: number | null | undefined): string {
  if (epochMs === null || epochMs === undefined) return '—'
  return new Date(epochMs).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'
}

/** Minor units as a decimal amount (2 decimals; the API carries the currency beside it). */
export function formatMinor(amountMinor: number | null | undefined, currency = ''): string {
  if (amountMinor === null || amountMinor === undefined) return '—'
  const sign = amountMinor < 0 ? '-' : ''
  const absolute = Math.abs(amountMinor)
  return `${sign}${Math.trunc(absolute / 100).toLocaleString('en')}.${String(absolute % 100).padStart(2, '0')}${currency === '' ? '' : ` ${currency}`}`
}

/** Replaces the children of `target`. */
export function replace(target: Element, ...children: Child[]): void {
  target.replaceChildren()
  append(target, ...children)
}
