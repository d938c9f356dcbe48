// Registers the case app's service worker (`/app/sw.js`, scope `/app/`), which keeps the
// application shell so that the app opens with no network after its first load.

export async function registerServiceWorker(): Promise<void> {
  if (!("serviceWorker" in navigator)) return
  try {
    await navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" })
  } catch {
    // Without a service worker the app still works online; nothing for the worker to do.
  }
}

/**
 * Registers the same service worker for the PZK meeting pages (scope `/meeting/`, which the
 * server allows with `Service-Worker-Allowed`), so that a meeting page opens offline after its
 * first load, as the app does.
 */
export async function registerMeetingServiceWorker(): Promise<void> {
  if (!("serviceWorker" in navigator)) return
  try {
    await navigator.serviceWorker.register("/app/sw.js", { scope: "/meeting/" })
  } catch {
    // Without it the meeting page still works online.
  }
}
