import { defineConfig } from "vite"

// The bundle goes to dist/, which the server embeds (server/src/web.rs) and serves at `/`.
// Asset names carry a content hash, so the server may let browsers cache /assets/ forever.
export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // The wasm file stays a file of its own (served as application/wasm), never inlined.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
})
