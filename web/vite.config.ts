/// <reference types="vitest" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";

// The built UI lives inside the Python package so a wheel serves it without Node.
const outDir = fileURLToPath(new URL("../src/mltrail/api/ui_assets", import.meta.url));
const apiTarget = process.env.MLTRAIL_API ?? "http://127.0.0.1:5611";

export default defineConfig({
  base: "/",
  plugins: [react()],
  build: {
    outDir,
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    port: 5612,
    host: "127.0.0.1",
    proxy: { "/api": { target: apiTarget, changeOrigin: false } },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    css: false,
  },
});
