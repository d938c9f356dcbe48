// The remote PZK meeting page: log in with a one-time code, pick a meeting, meet.
//
// Routes (the server serves this page at each): `/` logs in or lists the meetings,
// `/meeting/{documentId}/{meetingId}` opens one meeting.

import wasmUrl from "@automerge/automerge/automerge.wasm?url"
import { Repo, initializeWasm, type AutomergeUrl, type DocHandle } from "@automerge/automerge-repo/slim"

import { AccessTokens, ApiError, deviceToken, enroll, forgetDevice, me, myDocuments, type Me } from "./api"
import { MeetingView } from "./meeting"
import { KooperacjaAdapter } from "./network"
import { MEETING_MODE, meetingIds, str, type PzkDoc } from "./pzk"
import { el, showConnection, showError } from "./ui"
import "./style.css"

function show(id: string): void {
  const view = document.getElementById(id)
  if (view) view.hidden = false
}

/** Turns a failure into words for the user. */
function describe(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return `Serwer nie przyjął logowania: ${error.message}`
    return `Serwer odpowiedział: ${error.message}`
  }
  return (error as Error)?.message ?? String(error)
}

function loginView(): void {
  show("login-view")
  const form = document.getElementById("login-form") as HTMLFormElement
  form.addEventListener("submit", async event => {
    event.preventDefault()
    const code = (document.getElementById("code") as HTMLInputElement).value
    try {
      await enroll(code)
      location.reload()
    } catch (error) {
      showError(`Logowanie nie powiodło się. ${describe(error)}`)
    }
  })
}

/** Connects to `/sync` with a fresh access token, telling the header how it goes. */
function connect(tokens: AccessTokens): Repo {
  const adapter = new KooperacjaAdapter(tokens, {
    online: showConnection,
    refused: reason => showError(`Serwer odrzucił zmianę lub połączenie: ${reason}`),
  })
  return new Repo({ network: [adapter] })
}

async function pzkDocuments(repo: Repo, tokens: AccessTokens): Promise<Array<{ url: string; doc: PzkDoc }>> {
  const entries = (await myDocuments(tokens)).filter(d => d.kind === "pzk")
  const found = await Promise.all(
    entries.map(async entry => {
      const handle = await repo.find<PzkDoc>(entry.url as AutomergeUrl)
      return { url: entry.url, doc: handle.doc() }
    }),
  )
  return found.filter((f): f is { url: string; doc: PzkDoc } => Boolean(f.doc))
}

async function pickView(repo: Repo, tokens: AccessTokens): Promise<void> {
  show("pick-view")
  const list = document.getElementById("meetings") as HTMLUListElement
  const documents = await pzkDocuments(repo, tokens)
  const items = documents.flatMap(({ url, doc }) =>
    meetingIds(doc).map(id => {
      const meeting = doc.meetings[id]
      const documentId = url.replace(/^automerge:/, "")
      const when = meeting.date.toLocaleString("pl-PL", { timeZone: "Europe/Warsaw" })
      const link = el("a", { href: `/meeting/${documentId}/${encodeURIComponent(id)}` }, `${str(doc.name)} — ${when}`)
      return el("li", { "data-meeting": id }, link, ` (${MEETING_MODE[str(meeting.mode)] ?? str(meeting.mode)})`)
    }),
  )
  list.replaceChildren(...(items.length ? items : [el("li", {}, "Brak spotkań w Twoich zespołach PZK.")]))
}

async function meetingView(repo: Repo, tokens: AccessTokens, user: Me, documentId: string, meetingId: string) {
  const entries = await myDocuments(tokens)
  const entry = entries.find(d => d.document_id === documentId)
  if (!entry) throw new Error("Nie masz dostępu do tego dokumentu PZK albo on nie istnieje.")
  let handle: DocHandle<PzkDoc>
  try {
    handle = await repo.find<PzkDoc>(entry.url as AutomergeUrl)
  } catch {
    throw new Error("Serwer nie udostępnił dokumentu PZK.")
  }
  if (!handle.doc()?.meetings?.[meetingId]) throw new Error(`W dokumencie nie ma spotkania ${meetingId}.`)
  const canEdit = entry.access === "read-write"
  // Changes name the author's institution; a reader without one (a coordinator) writes nothing.
  if (canEdit && !user.institution) throw new Error("Twoje konto nie jest przypisane do instytucji.")
  new MeetingView({
    handle,
    meetingId,
    member: { login: user.login, name: user.name, institution: user.institution ?? "" },
    canEdit,
  })
}

async function main(): Promise<void> {
  const device = deviceToken()
  if (!device) return loginView()
  const logout = document.getElementById("logout") as HTMLButtonElement
  logout.hidden = false
  logout.addEventListener("click", () => {
    forgetDevice()
    location.assign("/")
  })
  const tokens = new AccessTokens(device)
  let user: Me
  try {
    await tokens.refresh()
    user = await me(tokens)
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      forgetDevice()
      loginView()
    }
    throw error
  }
  const who = document.getElementById("who")
  if (who) who.textContent = `${user.name} (${user.institution_name ?? user.institution ?? "bez instytucji"})`
  await initializeWasm(wasmUrl)
  const repo = connect(tokens)
  const route = location.pathname.match(/^\/meeting\/([^/]+)\/([^/]+)\/?$/)
  if (route) {
    await meetingView(repo, tokens, user, route[1], decodeURIComponent(route[2]))
  } else {
    await pickView(repo, tokens)
  }
}

main().catch(error => showError(describe(error)))
