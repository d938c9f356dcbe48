import { defineConfig, type Plugin } from "vite"

// The bundle goes to dist/, which the server embeds (server/src/web.rs): the PZK meeting page
// (`index.html`, served at `/`), the case app (`app/index.html`, served at `/app/`) and the
// app's service worker (`app/sw.js`, also the meeting pages' under `/meeting/`). Files in public/app/ (the manifest, the icons) are copied
// as they are. Asset names carry a content hash, so the server may let browsers cache /assets/
// forever.

/** A file of this folder, as an absolute path. */
const here = (name: string) => decodeURIComponent(new URL(name, import.meta.url).pathname)

/** The case app's files in public/app/, which the service worker keeps too. */
const APP_PUBLIC = ["/app/manifest.webmanifest", "/app/icon.svg", "/app/icon-192.png", "/app/icon-512.png"]

/** FNV-1a, 32 bits, as hex: a short, deterministic version of the shell's file list. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0
  return hash.toString(16).padStart(8, "0")
}

/**
 * Writes the shell's file list into the service worker: the app's page, every asset of the
 * build (they carry content hashes, so the list changes whenever any of them does, and so does
 * the service worker and its cache's name) and the app's public files.
 */
function serviceWorkerShell(): Plugin {
  return {
    name: "kooperacja-service-worker-shell",
    generateBundle(_options, bundle) {
      const worker = bundle["app/sw.js"]
      if (!worker || worker.type !== "chunk") throw new Error("the service worker chunk app/sw.js is missing")
      const assets = Object.keys(bundle)
        .filter(name => name.startsWith("assets/"))
        .sort()
        .map(name => `/${name}`)
      const source = (name: string) => {
        const page = bundle[name]
        return page && page.type === "asset" ? String(page.source) : ""
      }
      // "/" is the meeting page (index.html), served at every /meeting/… address too.
      const shell = ["/app/", "/", ...assets, ...APP_PUBLIC]
      const version = fnv1a(shell.join("\n") + source("app/index.html") + source("index.html"))
      worker.code = worker.code
        .replace("__SHELL__", JSON.stringify(shell))
        .replace("__SHELL_VERSION__", JSON.stringify(version))
    },
  }
}

export default defineConfig({
  base: "/",
  plugins: [serviceWorkerShell()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // The wasm file stays a file of its own (served as application/wasm), never inlined.
    assetsInlineLimit: 0,
    sourcemap: false,
    rollupOptions: {
      input: {
        meeting: here("index.html"),
        app: here("app/index.html"),
        sw: here("src/sw/sw.ts"),
      },
      output: {
        entryFileNames: chunk => (chunk.name === "sw" ? "app/sw.js" : "assets/[name]-[hash].js"),
        // Code shared by both pages (Automerge, automerge-repo) goes in one chunk of its own.
        chunkFileNames: "assets/shared-[hash].js",
      },
    },
  },
})
