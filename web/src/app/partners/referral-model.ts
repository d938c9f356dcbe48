// The referral screens' one door to the model (web/src/model/referral.ts): the referrals this
// user may hold (an inbox for the receiving institution's social workers, "mine" for the
// referrer), writing one offline, and accepting (a case opens, linked) or declining it. The
// model checks every rule; the server decides who may write what.

import type { DocHandle } from "@automerge/automerge-repo/slim"

import type { DocumentEntry, Me } from "../../api"
import * as M from "../../model"
import type { PzkDoc } from "../../pzk"
import { str } from "../../pzk"
import type { AppContext } from "../context"
import { rememberCreated, withCreatedHere } from "../screens/created-here"
import { entries, find } from "../screens/documents"

const R = M.Referrals
export type ReferralView = M.Referrals.ReferralView
export type ReferralForm = M.Referrals.ReferralForm

/** One referral on the list: its id, what it says, and whether this user decides on it. */
export interface ReferralRow {
  documentId: string
  view: ReferralView
  /** This user works for the receiving institution and may decide. */
  receiving: boolean
}

function editorOf(me: Me): M.Editor {
  if (!me.institution) throw new Error("Twoje konto nie jest przypisane do instytucji, więc nie możesz wysyłać zgłoszeń.")
  return M.editor(me.login, me.institution)
}

/** Whether the user decides on referrals (a social worker or animator of a GOPS/PCPR). */
export function decides(me: Me): boolean {
  return me.roles.includes("social-worker") || me.roles.includes("animator")
}

async function referralEntries(context: AppContext): Promise<DocumentEntry[]> {
  return withCreatedHere(context.me.login, await context.documents()).filter(d => d.kind === "referral")
}

/** The referrals on this device: the inbox (to my institution) and the ones I sent. */
export async function listReferrals(context: AppContext): Promise<{ inbox: ReferralRow[]; mine: ReferralRow[]; missing: number }> {
  const rows: ReferralRow[] = []
  let missing = 0
  for (const entry of await referralEntries(context)) {
    const doc = (await find<M.Referrals.ReferralDoc>(context, entry))?.doc()
    if (!doc) {
      missing++
      continue
    }
    try {
      const view = R.readReferral(doc)
      rows.push({ documentId: entry.document_id, view, receiving: view.to === context.me.institution && decides(context.me) })
    } catch {
      missing++
    }
  }
  const newest = (a: ReferralRow, b: ReferralRow) => b.view.createdAt.getTime() - a.view.createdAt.getTime()
  return {
    inbox: rows.filter(r => r.receiving).sort(newest),
    mine: rows.filter(r => r.view.by === context.me.login).sort(newest),
    missing,
  }
}

/** The GOPS/MOPS/PCPR of the user's PZK teams (from the PZK documents on this device). */
export async function receivingInstitutions(context: AppContext): Promise<Array<readonly [string, string]>> {
  const { pzk } = await entries(context)
  const found = new Map<string, string>()
  for (const entry of pzk) {
    const doc = (await find<PzkDoc>(context, entry))?.doc()
    for (const [id, member] of Object.entries(doc?.members ?? {})) {
      if (str(member.sector) === "social_assistance" && id !== context.me.institution) found.set(id, str(member.name) || id)
    }
  }
  return [...found]
}

/** Writes a referral on this device (no network needed); returns its document id. */
export function sendReferral(context: AppContext, form: ReferralForm): string {
  const handle = R.createReferral(context.repo, form, editorOf(context.me), new Date())
  rememberCreated(context.me.login, handle.documentId, handle.url, "referral")
  return handle.documentId
}

/** An open referral: its view now, a listener for its changes, and the decisions. */
export interface OpenedReferral {
  view(): ReferralView
  receiving: boolean
  onChange(listener: () => void): () => void
  /** Opens a case for it (linked, the referrer recorded) and accepts it; returns the case's id. */
  accept(): string
  decline(reason: string): void
}

export async function openReferral(context: AppContext, documentId: string): Promise<OpenedReferral> {
  const entry = (await referralEntries(context)).find(d => d.document_id === documentId)
  if (!entry) throw new Error("Nie masz dostępu do tego zgłoszenia albo ono nie istnieje.")
  const handle = (await find<M.Referrals.ReferralDoc>(context, entry)) as DocHandle<M.Referrals.ReferralDoc> | null
  const first = handle?.doc()
  if (!handle || !first) throw new Error("Tego zgłoszenia nie ma jeszcze na urządzeniu; pojawi się po połączeniu z serwerem.")
  const view = () => R.readReferral(handle.doc() ?? first)
  const receiving = view().to === context.me.institution && decides(context.me)
  return {
    view,
    receiving,
    onChange(listener) {
      handle.on("change", listener)
      return () => handle.off("change", listener)
    },
    accept() {
      const by = editorOf(context.me)
      const v = view()
      // The decision is checked before the case is opened, so a decided referral opens none.
      R.checkUndecided(handle.doc() ?? first)
      const at = new Date()
      const created = M.createCase(
        context.repo,
        {
          owner: context.me.login,
          leadInstitution: by.institution,
          referral: { by: v.by, institution: v.institution, reason: v.reason, at: v.createdAt },
          household: { p1: { name: v.subjectName, relation: "self", birthDate: null } },
        },
        by,
        at,
      )
      M.commit(created, doc => M.linkReferralDocument(doc, documentId, by, at))
      rememberCreated(context.me.login, created.documentId, created.url)
      M.commit(handle, doc => R.acceptReferral(doc, created.documentId, by, at))
      return created.documentId
    },
    decline(reason) {
      M.commit(handle, doc => R.declineReferral(doc, reason, editorOf(context.me), new Date()))
    },
  }
}
