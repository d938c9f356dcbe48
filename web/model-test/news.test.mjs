// Unit tests of "Co nowego" (web/src/model/news.ts, the one rule of what is new) and of the
// consultations asked through the PZK (web/src/model/consultation.ts), on the model compiled by
// `tsc -p tsconfig.model.json`. Run by tests/tests/news_rules.rs (`node --test`). When
// NEWS_VECTORS names a folder holding `case.b64` and `pzk.b64` written by the Rust model, the
// last test asks through the PZK and answers there, and writes both documents back
// (`case.out.b64`, `pzk.out.b64`, and a "seen" document, `seen.out.b64`) for Rust to read.

import assert from "node:assert/strict"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { test } from "node:test"

import * as A from "@automerge/automerge"

const compiled = new URL("../node_modules/.model-test/", import.meta.url)
writeFileSync(new URL("package.json", compiled), '{"type":"module"}\n')
const M = await import(new URL("web/src/model/index.js", compiled).href)
const { News, Addressed } = M

const s = v => new A.ImmutableString(v)
const at = hour => new Date(Date.UTC(2026, 11, 3, hour))

/** A PZK document with the school as a member, a consultation to it and one to the police, a meeting inviting the school. */
function team() {
  return A.from({
    type: s("pzk"),
    name: s("PZK Gminy Przykładowo"),
    members: { szkola: { name: s("Szkoła") }, policja: { name: s("Policja") } },
    consultations: {
      k1: { question: "Czy Ola bywa głodna?", askedBy: s("anna"), institution: s("gops"), at: at(9), caseRef: s("CASE1"), to: s("szkola"), answers: {} },
      k2: { question: "Interwencje?", askedBy: s("anna"), institution: s("gops"), at: at(10), caseRef: s("CASE1"), to: s("policja"), answers: {} },
      k3: { question: "Stara, bez adresata", askedBy: s("anna"), institution: s("gops"), at: at(8), caseRef: s("R-1"), answers: {} },
    },
    meetings: {
      m1: { date: at(30), invitations: { szkola: { at: at(11), by: s("animator1") } } },
      m2: { date: at(2), minutesApproved: { by: s("animator1"), at: at(12) } },
      m3: { date: at(3) },
    },
  })
}

const referral = (by, status) => A.from({ type: s("referral"), by: s(by), status: s(status), subject: { name: s("Rodzina W.") }, decision: { at: at(13), by: s("anna") } })
const caseOf = owner => A.from({ type: s("case"), owner: s(owner) })

function input(me, seen = []) {
  return {
    me,
    pzk: [{ id: "P", doc: team() }],
    referrals: [
      { id: "R1", doc: referral("szkola-rep", "accepted") },
      { id: "R2", doc: referral("szkola-rep", "submitted") },
      { id: "R3", doc: referral("kto-inny", "declined") },
    ],
    cases: [{ id: "C1", doc: caseOf("anna") }, { id: "C2", doc: caseOf("szkola-rep") }],
    seen: new Set(seen),
  }
}

test("a school member sees the consultation to the school, the invitation, the approved minutes, the answered referral and a case shared with them", () => {
  const items = News.news(input({ login: "szkola-rep", institution: "szkola" }))
  assert.deepEqual(items.map(i => i.key).sort(), [
    "case:C1",
    "consultation:P:k1",
    "meeting:P:m1",
    "minutes:P:m2",
    "referral:R1:accepted",
  ])
  const consultation = items.find(i => i.kind === "consultation")
  assert.equal(consultation.document, "P")
  assert.equal(consultation.entry, "k1")
  assert.match(consultation.text, /Czy Ola bywa głodna/)
})

test("what the user opened is not new any more; nor is what they wrote themselves", () => {
  const items = News.news(input({ login: "szkola-rep", institution: "szkola" }, ["consultation:P:k1", "case:C1", "meeting:P:m1"]))
  assert.deepEqual(items.map(i => i.key).sort(), ["minutes:P:m2", "referral:R1:accepted"])
  const anna = News.news(input({ login: "anna", institution: "gops" }))
  assert.deepEqual(anna.map(i => i.key), ["case:C2"], "anna asked k1 and k2, owns C1, and the GOPS is no member of this team")
})

test("a retention notice is news until opened, and again when the day changes", () => {
  const notice = eraseOn => ({ ...input({ login: "anna", institution: "gops" }), notices: [{ id: "C1", eraseOn }] })
  const [item] = News.news(notice("2032-01-01")).filter(i => i.kind === "retention")
  assert.equal(item.key, "retention:C1:2032-01-01")
  assert.equal(item.document, "C1")
  assert.match(item.text, /usunięta 1\.01\.2032/)
  const seen = { ...notice("2032-01-01"), seen: new Set([item.key]) }
  assert.equal(News.news(seen).filter(i => i.kind === "retention").length, 0)
  const later = { ...notice("2033-06-30"), seen: new Set([item.key]) }
  assert.deepEqual(News.news(later).filter(i => i.kind === "retention").map(i => i.key), ["retention:C1:2033-06-30"])
})

test("an institution sees only consultations addressed to it", () => {
  const police = News.news(input({ login: "policja-rep", institution: "policja" }))
  assert.deepEqual(police.filter(i => i.kind === "consultation").map(i => i.entry), ["k2"])
})

test("a seen document marks each item once and merges across devices", () => {
  let phone = A.load(News.createSeen("szkola-rep", at(9)))
  let laptop = A.clone(phone)
  const mark = (doc, keys, hour) => {
    const e = News.markSeen(doc, keys, at(hour))
    return e === null ? doc : M.applyEdit(doc, e)
  }
  phone = mark(phone, ["consultation:P:k1"], 10)
  laptop = mark(laptop, ["case:C1", "consultation:P:k1"], 11)
  assert.equal(News.markSeen(phone, ["consultation:P:k1"], at(12)), null)
  const both = A.merge(phone, laptop)
  assert.deepEqual(News.seenKeys(both).sort(), ["case:C1", "consultation:P:k1"])
  assert.throws(() => News.markSeen(both, ["a/b"], at(12)), e => e.code === "field.invalid")
  assert.match(A.getHistory(both)[0].change.message, /^seen: created\n\nAuthor: szkola-rep$/)
})

test("a consultation is asked only of a member and answered only by the institution asked", () => {
  const pzk = team()
  const caseDoc = A.from({ type: s("case"), schemaVersion: 1, consultations: {} })
  const anna = M.editor("anna", "gops")
  assert.throws(
    () => Addressed.askInstitution(caseDoc, "CASE1", pzk, "P", "k9", "mops", "?", anna, at(9)),
    e => e.code === "consultation.to-non-member" && e.args.to === "mops",
  )
  assert.throws(
    () => Addressed.answerAddressed(pzk, "k1", "a1", "Nie wiem", M.editor("policja-rep", "policja"), at(10)),
    e => e.code === "consultation.not-addressed" && e.args.to === "szkola",
  )
  const answer = Addressed.answerAddressed(pzk, "k1", "a1", "Tak", M.editor("szkola-rep", "szkola"), at(10))
  const answered = M.applyEdit(pzk, answer)
  const [k1] = Addressed.addressedConsultations(answered, "szkola")
  assert.deepEqual(k1.answers.map(a => [a.by, a.institution, a.text]), [["szkola-rep", "szkola", "Tak"]])
})

test("Rust's documents: asked through the PZK and answered here, written back for Rust", { skip: !process.env.NEWS_VECTORS }, () => {
  const dir = process.env.NEWS_VECTORS
  const load = name => A.load(Buffer.from(readFileSync(join(dir, name), "utf8").trim(), "base64"))
  let caseDoc = load("case.b64")
  let pzk = load("pzk.b64")
  const ids = JSON.parse(readFileSync(join(dir, "ids.json"), "utf8"))
  const { inCase, inPzk } = Addressed.askInstitution(caseDoc, ids.case, pzk, ids.pzk, "k1", "szkola", "Czy Ola bywa głodna?", M.editor("anna", "gops"), at(9))
  caseDoc = M.applyEdit(caseDoc, inCase)
  pzk = M.applyEdit(A.clone(pzk, { actor: "aa".repeat(16) }), inPzk)
  pzk = M.applyEdit(A.clone(pzk, { actor: "bb".repeat(16) }), Addressed.answerAddressed(pzk, "k1", "a1", "Tak, od października.", M.editor("szkola-rep", "szkola"), at(10)))
  const view = M.readCase(caseDoc).consultations.k1
  assert.deepEqual(view.addressed, { pzk: ids.pzk, consultation: "k1", to: "szkola" })
  let seen = A.load(News.createSeen("szkola-rep", at(9)))
  seen = M.applyEdit(seen, News.markSeen(seen, ["consultation:" + ids.pzk + ":k1"], at(11)))
  const b64 = doc => Buffer.from(A.save(doc)).toString("base64")
  writeFileSync(join(dir, "case.out.b64"), b64(caseDoc))
  writeFileSync(join(dir, "pzk.out.b64"), b64(pzk))
  writeFileSync(join(dir, "seen.out.b64"), b64(seen))
})
