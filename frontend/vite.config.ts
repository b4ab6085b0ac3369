import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The dev server proxies the API, so `npm run dev` works against `make up`'s
// server on 127.0.0.1:8080; the build is served by that server at /.
const api = "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  base: "/",
  server: { host: "127.0.0.1", port: 5173, proxy: { "/api": api, "/artifacts": api, "/openapi.json": api } },
  build: {
    outDir: "dist",
    sourcemap: false,
    // Swagger UI is one 1.7 MB module of its own, loaded by /docs only.
    chunkSizeWarningLimit: 1800,
    rollupOptions: { input: { main: "index.html", docs: "docs.html" } },
  },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
