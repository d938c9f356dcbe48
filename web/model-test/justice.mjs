// Runs the TypeScript twin of the justice document (web/src/model/justice.ts, compiled by
// `tsc -p tsconfig.model.json`) on documents Rust wrote: tests/tests/case_vectors/justice.rs
// runs it with a case and its justice document and a folder to write to, reads the JSON it
// prints (the case's link before and after TypeScript links it, the entries as read, the codes of the refused edits) and checks the
// documents it wrote with the Rust model.

import { readFileSync, writeFileSync } from "node:fs"

import * as A from "@automerge/automerge"

const compiled = new URL("../node_modules/.model-test/", import.meta.url)
writeFileSync(new URL("package.json", compiled), '{"type":"module"}\n')
const M = await import(new URL("web/src/model/index.js", compiled).href)
const { Justice } = M

const [caseFile, justiceFile, out] = process.argv.slice(2)
let kase = A.load(readFileSync(caseFile))
let doc = A.load(readFileSync(justiceFile))
const anna = M.editor("anna", "gops")
const police = M.editor("policja-rep", "policja")
const at = new Date("2026-03-05T08:15:00Z")

const canonical = view => ({
  case: view.case,
  entries: Object.fromEntries(
    Object.entries(view.entries).map(([id, e]) => [id, { ...e, at: e.at.toISOString() }]),
  ),
})
const refusal = build => {
  try {
    build()
    return null
  } catch (e) {
    if (!(e instanceof M.ModelError)) throw e
    return { code: e.code, args: e.args, text: e.message }
  }
}
const entry = (content, extra = {}) => ({
  procedure: "blue_card",
  number: "NK-3/2026",
  informedBy: "policja",
  date: "2026-03-04",
  content,
  ...extra,
})

const unlinked = Justice.justiceDocument(kase)
kase = M.applyEdit(kase, Justice.linkJusticeDocument(kase, "JusticeDoc1", anna, at))
const link = Justice.justiceDocument(kase)
const before = canonical(Justice.readJustice(doc))
const refused = {
  empty: refusal(() => Justice.addJusticeEntry(doc, "j9", entry("  "), anna, at)),
  nobody: refusal(() => Justice.addJusticeEntry(doc, "j9", entry("x", { informedBy: "" }), anna, at)),
  again: refusal(() => Justice.addJusticeEntry(doc, "j1", entry("x"), anna, at)),
  relink: refusal(() => Justice.linkJusticeDocument(kase, "Other1", anna, at)),
  notJustice: refusal(() => Justice.readJustice(kase)),
}
const court = entry("Sąd wszczął postępowanie o wgląd w sytuację rodziny.", {
  procedure: "family_court",
  number: "",
})
doc = M.applyEdit(doc, Justice.addJusticeEntry(doc, "j2", court, police, at))
writeFileSync(`${out}/justice.am`, A.save(doc))
// A new case's part, made here: the document and its link.
let fresh = M.applyEdit(A.init(), Justice.newJustice("CaseTwo1", anna, at))
fresh = M.applyEdit(fresh, Justice.addJusticeEntry(fresh, "j1", entry("Zatrzymanie sprawcy."), anna, at))
writeFileSync(`${out}/created.am`, A.save(fresh))
writeFileSync(`${out}/linked.am`, A.save(kase))
process.stdout.write(JSON.stringify({ unlinked, link, before, refused, after: canonical(Justice.readJustice(doc)) }))
