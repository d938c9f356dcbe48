// "Nowe" (Co nowego): what is new for the user, newest first; each item opens what it is about
// and is then gone, on every device of the user. A consultation addressed to the user's
// institution opens here, with its question and the answers, and the form to answer it: the
// answer is written in the PZK document (the case itself is not shared with the institution).

import type { AutomergeUrl, DocHandle } from "@automerge/automerge-repo/slim"

import * as M from "../../model"
import type { AppContext } from "../context"
import { button, el, when } from "../screens/dom"
import { href } from "../screens/router"
import { loadNews, markSeen } from "./news-model"

const KIND: Record<M.News.NewsKind, string> = {
  consultation: "Konsultacja",
  referral: "Zgłoszenie",
  case: "Sprawa",
  meeting: "Spotkanie",
  minutes: "Protokół",
}

function target(item: M.News.NewsItem): string {
  switch (item.kind) {
    case "consultation":
      return href({ screen: "news-consultation", pzk: item.document, id: item.entry ?? "" })
    case "referral":
      return href({ screen: "referral", documentId: item.document })
    case "case":
      return href({ screen: "case", documentId: item.document })
    case "meeting":
    case "minutes":
      // The meeting's page in the team's "Spotkania" tab (app/pzk/meetings/).
      return href({ screen: "pzk-team", pzk: item.document, tab: "spotkania", rest: [item.entry ?? ""] })
  }
}

/**
 * Opens an item: marks it seen first (on all the user's devices, through the sync), then goes
 * to it (every item opens a screen of this app).
 */
async function openItem(context: AppContext, item: M.News.NewsItem): Promise<void> {
  try {
    await markSeen(context, [item.key])
  } catch {
    // Not marked (the store refused): the item stays new, and it still opens.
  }
  location.hash = target(item)
}

export async function showNews(host: HTMLElement, context: AppContext): Promise<() => void> {
  const list = el("ul", { class: "caseload", "data-testid": "news-list" })
  const draw = async () => {
    const { items } = await loadNews(context)
    list.replaceChildren(
      ...items.map(item => {
        const link = el("a", { href: target(item), "data-testid": "news-link" }, item.text) as HTMLAnchorElement
        link.addEventListener("click", event => {
          event.preventDefault()
          void openItem(context, item)
        })
        return el(
          "li",
          { class: "case-row", "data-news": item.key, "data-kind": item.kind },
          el("span", { class: "stage-chip" }, KIND[item.kind]),
          " ",
          link,
          item.at ? el("span", { class: "muted" }, ` ${when(item.at)}`) : "",
        )
      }),
    )
    if (items.length === 0) list.append(el("li", { class: "muted", "data-testid": "news-empty" }, "Nie ma nic nowego."))
  }
  host.replaceChildren(el("h2", {}, "Nowe"), list)
  await draw()
  return () => undefined
}

/** A consultation addressed to the user's institution: the question, the answers, and the form to answer. */
export async function showNewsConsultation(host: HTMLElement, context: AppContext, pzkId: string, id: string): Promise<() => void> {
  const handle = (await context.repo.find(`automerge:${pzkId}` as AutomergeUrl)) as DocHandle<M.Addressed.PzkConsultationsDoc>
  await markSeen(context, [`consultation:${pzkId}:${id}`])
  const box = el("article", { class: "card consultation", "data-testid": "news-consultation", "data-consultation": id })
  const draw = () => {
    const doc = handle.doc()
    const found = doc ? M.Addressed.addressedConsultations(doc).find(c => c.id === id) : undefined
    if (!found) {
      box.replaceChildren(el("p", { class: "muted" }, "Tej konsultacji nie ma jeszcze na urządzeniu."))
      return
    }
    const answers = el(
      "ul",
      { class: "answers" },
      ...found.answers.map(a => el("li", { "data-answer": a.id }, el("p", { class: "muted" }, `${a.by} (${a.institution}), ${when(a.at)}`), el("p", {}, a.text))),
    )
    const parts: Array<Node | string> = [
      el("p", { class: "muted" }, `${found.askedBy} (${found.institution}), ${when(found.at)} — sprawa ${found.caseRef.slice(0, 8)}… (nie jest Ci udostępniona)`),
      el("p", { class: "question", "data-testid": "news-question" }, found.question),
      answers,
    ]
    if (context.me.institution === found.to) {
      const text = el("textarea", { rows: "3", "data-testid": "answer-text" }) as HTMLTextAreaElement
      const answer = () => {
        const by = M.editor(context.me.login, context.me.institution ?? "")
        const doc = handle.doc()
        if (!doc) return
        const e = M.Addressed.answerAddressed(doc, id, M.newId("odpowiedz"), text.value.trim(), by, new Date())
        handle.change(e.apply, { message: e.message, time: e.time })
        draw()
      }
      parts.push(text, button("Odpowiedz", answer, { "data-testid": "answer" }))
    }
    box.replaceChildren(...parts)
  }
  host.replaceChildren(el("h2", {}, "Konsultacja"), el("p", {}, el("a", { href: href({ screen: "news" }) }, "← Nowe")), box)
  draw()
  // Keep what is being typed: no redraw while the answer field has the focus.
  const redraw = () => {
    if (document.activeElement?.tagName !== "TEXTAREA" || !box.contains(document.activeElement)) draw()
  }
  handle.on("change", redraw)
  return () => handle.off("change", redraw)
}

