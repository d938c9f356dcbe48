import { defineConfig } from "vite"

// The bundle goes to dist/, which the server embeds (server/src/web.rs): the PZK meeting page
// (`index.html`, served at `/`) and the case app (`app/index.html`, served at `/app/`).
// Asset names carry a content hash, so the server may let browsers cache /assets/ forever.
/** A file of this folder, as an absolute path. */
const here = (name: string) => decodeURIComponent(new URL(name, import.meta.url).pathname)

export default defineConfig({
  base: "/",
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
      },
      // Code shared by both pages (Automerge, automerge-repo) goes in one chunk of its own.
      output: { chunkFileNames: "assets/shared-[hash].js" },
    },
  },
})
