// The case app's service worker (built to /app/sw.js, scope /app/; the PZK meeting page
// registers it for /meeting/ too): it keeps the application shell — the app's page, the meeting
// page, their hashed code and styles, the Automerge wasm, the manifest and the icons — so that
// after its first load the app, and a meeting page, open with no network at all.
//
// The build writes the list of files (`SHELL`) and a version derived from their content-hashed
// names into this file (vite.config.ts). A new deployment is a new sw.js: the browser installs
// it beside the old one, it fetches the new shell, takes over, and drops the old cache; the page
// that is open keeps the version it started with until it is reloaded. Data never passes
// through here: /api and /sync are not intercepted, and documents live in the encrypted store.

interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request
  respondWith(response: Promise<Response> | Response): void
}
interface ServiceWorkerScope {
  addEventListener(type: "install" | "activate", listener: (event: ExtendableEvent) => void): void
  addEventListener(type: "fetch", listener: (event: FetchEvent) => void): void
  skipWaiting(): Promise<void>
  readonly clients: { claim(): Promise<void> }
  readonly location: Location
}

declare const __SHELL__: string[]
declare const __SHELL_VERSION__: string

const scope = globalThis as unknown as ServiceWorkerScope
const SHELL: string[] = __SHELL__
const CACHE = `kooperacja-shell-${__SHELL_VERSION__}`
const PAGE = "/app/"
/** The meeting page (index.html at "/"), which every /meeting/… address shows. */
const MEETING_PAGE = "/"
const MEETINGS = "/meeting/"

scope.addEventListener("install", event => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE)
      // `reload`: straight from the server, never from the browser's HTTP cache.
      await cache.addAll(SHELL.map(url => new Request(url, { cache: "reload" })))
      await scope.skipWaiting()
    })(),
  )
})

scope.addEventListener("activate", event => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("kooperacja-shell-") && name !== CACHE) await caches.delete(name)
      }
      await scope.clients.claim()
    })(),
  )
})

scope.addEventListener("fetch", event => {
  const request = event.request
  const url = new URL(request.url)
  if (request.method !== "GET" || url.origin !== scope.location.origin) return
  if (request.mode === "navigate" && url.pathname.startsWith(PAGE)) {
    // Every route of the app is its one page.
    event.respondWith(fromCache(PAGE, request))
  } else if (request.mode === "navigate" && url.pathname.startsWith(MEETINGS)) {
    event.respondWith(fromCache(MEETING_PAGE, request))
  } else if (url.pathname.startsWith("/assets/") || SHELL.includes(url.pathname)) {
    event.respondWith(fromCache(url.pathname, request))
  }
})

/** The cached copy of `path`, else the network (keeping a copy of a hashed asset). */
async function fromCache(path: string, request: Request): Promise<Response> {
  const cache = await caches.open(CACHE)
  const cached = await cache.match(path)
  if (cached) return cached
  const response = await fetch(request)
  if (response.ok && path.startsWith("/assets/")) await cache.put(path, response.clone())
  return response
}
