/// <reference lib="dom" />
/**
 * An STR draft (api/routes/str.ts): subject, transactions in scope, indicators, the narrative
 * (editable while a draft), the problems still to fix, a goAML preview validated against the
 * schema, approval by the MLRO (compliance_officer) and the export, offered as a download.
 */
import { api, segment } from '../api-client.js'
import { badge, element, facts, formatMinor, formatTime, panel, replace, table } from '../dom.js'
import { reportError, runAction, showBanner } from '../feedback.js'
import { currentOfficer, hasRole } from '../session.js'
import type { StrDraftRecord } from '../types.js'

export async function renderStr(main: HTMLElement, draftId: string, stillCurrent: () => boolean): Promise<void> {
  const officer = await currentOfficer()
  const record = await api<StrDraftRecord>('GET', `/str/${segment(draftId)}`)
  if (!stillCurrent()) return
  const { draft } = record
  const base = `/str/${segment(draftId)}`
  const editable = draft.status === 'draft'
  const narrative = element('textarea', { id: 'str-narrative', readonly: !editable }, draft.narrative)
  const preview = element('div', { id: 'str-preview' })
  const exported = element('div', { id: 'str-export' })

  const actions = element('div', { class: 'actions' })
  if (editable) {
    actions.appendChild(element('button', { type: 'button', id: 'str-save', onclick: () => void runAction(() => api('PATCH', base, { expectedRevision: draft.revision, patch: { narrative: narrative.value } }), 'Narrative saved.') }, 'Save narrative'))
  }
  actions.appendChild(element('button', { type: 'button', class: 'secondary', id: 'str-preview-button', onclick: async () => {
    try {
      const result = await api<{ xml: string | null; problems: Array<{ path: string; message: string }>; schema: { valid: boolean; errors: Array<{ line: number | null; message: string }> } | null }>('GET', `${base}/preview`)
      const verdict = result.schema === null ? 'Too incomplete to render: fix the problems above.' : result.schema.valid ? 'Valid against the goAML schema.' : 'Not valid against the goAML schema:'
      replace(preview, element('p', { 'data-testid': 'str-schema-verdict' }, verdict),
        element('ul', { class: 'problems' }, ...(result.schema?.errors ?? []).map((error) => element('li', {}, `${error.line === null ? '' : `line ${error.line}: `}${error.message}`))),
        result.xml === null ? null : element('pre', {}, result.xml))
    } catch (error) {
      reportError(error)
    }
  } }, 'Preview goAML XML'))
  if (hasRole(officer, 'compliance_officer') && editable) {
    actions.appendChild(element('button', { type: 'button', id: 'str-approve', onclick: () => void runAction(() => api('POST', `${base}/approve`, { expectedRevision: draft.revision }), 'Approved.') }, 'Approve (MLRO)'))
  }
  if (hasRole(officer, 'compliance_officer') && draft.status === 'approved') {
    actions.appendChild(element('button', { type: 'button', id: 'str-export-button', onclick: async () => {
      try {
        const result = await api<{ fileName: string; sha256: string; xml: string }>('POST', `${base}/export`)
        // A download from memory: nothing of the report leaves the page except to the officer's disk.
        const link = element('a', { href: URL.createObjectURL(new Blob([result.xml], { type: 'application/xml' })), download: result.fileName }, `Download ${result.fileName}`)
        replace(exported, element('p', {}, link, element('span', { class: 'muted' }, ` sha256 ${result.sha256}`)))
        showBanner(`Exported ${result.fileName}.`, 'info')
      } catch (error) {
        reportError(error)
      }
    } }, 'Export goAML XML'))
  }

  replace(main,
    element('h1', { 'data-draft-id': draft.draftId, 'data-draft-status': draft.status }, `STR ${draft.draftId} `, badge(draft.status)),
    element('p', {}, element('a', { href: `#/cases/${encodeURIComponent(draft.caseId)}` }, `← case ${draft.caseId}`)),
    panel('Draft', facts([
      ['Revision', draft.revision],
      ['Drafted by', `${record.createdBy} ${formatTime(record.createdAtMs)}`],
      ['Approved', draft.approvedBy === null ? '—' : `${draft.approvedBy} ${formatTime(draft.approvedAtMs)}`],
      ['Subject', [draft.subject.firstName, draft.subject.lastName].filter((part) => typeof part === 'string' && part !== '').join(' ') || String(draft.subject.playerId ?? '—')],
      ['Indicators', draft.indicators.map((indicator) => indicator.code).join(', ') || '—'],
      ['Action taken', draft.action ?? '—'],
    ])),
    panel('Problems to fix before approval', record.problems.length === 0 ? element('p', { class: 'muted' }, 'None.') : element('ul', { class: 'problems', id: 'str-problems' }, ...record.problems.map((problem) => element('li', {}, `${problem.path}: ${problem.message}`)))),
    panel('Narrative (grounds for suspicion)', narrative, actions, exported, preview),
    panel(`Transactions in scope (${draft.transactions.length})`, table(['When', 'Kind', 'Amount', 'Status', 'Id'], draft.transactions.map((transaction) => [
      formatTime(transaction.eventTimeMs), transaction.kind, typeof transaction.amountMinor === 'number' ? formatMinor(transaction.amountMinor, transaction.currency) : `${transaction.amountMinor} ${transaction.currency} (minor)`, transaction.status ?? '—', transaction.transactionId,
    ]))),
    panel('Exports', table(['File', 'SHA-256', 'By', 'When'], record.exports.map((item) => [item.fileName, item.sha256, item.exportedBy, formatTime(item.exportedAtMs)]))))
}
