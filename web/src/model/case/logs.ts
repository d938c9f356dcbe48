// The logs written during the work (sync-core/src/model/case/logs.rs): monitoring notes,
// consultations and their answers, consent events. Entries are append-only, keyed by a
// client-chosen id (see `newId`), so a retried upload never duplicates one.

import type { Edit, Editor } from "../editor.ts"
import { checkId } from "../editor.ts"
import * as R from "../reader.ts"
import { CONSENT_STATES, CONTACT_MODES, type CaseDoc, type ContactMode } from "./layout.ts"
import { absent, caseEdit, caseMap, checkEnum, scalar } from "./edit.ts"
import type { ConsentEvent } from "./types.ts"

/** Appends a monitoring note written by `by` (author and institution) about a contact at `at`. */
export function appendMonitoringNote(
  doc: CaseDoc,
  noteId: string,
  note: { mode: ContactMode; text: string },
  by: Editor,
  at: Date,
): Edit<CaseDoc> {
  absent(caseMap(doc, "monitoring"), "monitoring", noteId)
  checkEnum(`monitoring/${noteId}/mode`, CONTACT_MODES, note.mode)
  return caseEdit(`monitoring/${noteId}: ${note.mode} note`, by, at, d => {
    d.monitoring[noteId] = {
      author: scalar(by.login),
      institution: scalar(by.institution),
      at,
      mode: scalar(note.mode),
      text: note.text,
    }
  })
}

/** Opens a consultation about the case, asked by `by` for their institution. */
export function openConsultation(
  doc: CaseDoc,
  consultationId: string,
  question: string,
  by: Editor,
  at: Date,
): Edit<CaseDoc> {
  absent(caseMap(doc, "consultations"), "consultations", consultationId)
  return caseEdit(`consultations/${consultationId}: opened`, by, at, d => {
    d.consultations[consultationId] = {
      question,
      askedBy: scalar(by.login),
      institution: scalar(by.institution),
      at,
      answers: {},
    }
  })
}

/** Adds `by`'s answer to a consultation; answers are keyed by id, so concurrent ones all stay. */
export function answerConsultation(
  doc: CaseDoc,
  consultationId: string,
  answerId: string,
  text: string,
  by: Editor,
  at: Date,
): Edit<CaseDoc> {
  const consultation = R.map(caseMap(doc, "consultations"), consultationId, "consultations")
  const path = `consultations/${consultationId}`
  absent(R.map(consultation, "answers", path), `${path}/answers`, answerId)
  return caseEdit(`${path}/answers/${answerId}: answered`, by, at, d => {
    d.consultations[consultationId].answers[answerId] = {
      by: scalar(by.login),
      institution: scalar(by.institution),
      at,
      text,
    }
  })
}

/** Records a consent event, recorded by `by`; withdrawing is a new event with state `withdrawn`. */
export function recordConsent(
  doc: CaseDoc,
  consentId: string,
  event: ConsentEvent,
  by: Editor,
  at: Date,
): Edit<CaseDoc> {
  absent(caseMap(doc, "consents"), "consents", consentId)
  checkId(`consents/${consentId}/institution`, event.institution)
  checkEnum(`consents/${consentId}/state`, CONSENT_STATES, event.state)
  return caseEdit(`consents/${consentId}: ${event.state} for ${event.institution}`, by, at, d => {
    d.consents[consentId] = {
      institution: scalar(event.institution),
      purpose: scalar(event.purpose),
      state: scalar(event.state),
      by: scalar(event.by),
      recordedBy: scalar(by.login),
      at,
    }
  })
}
