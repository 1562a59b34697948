import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// `npm run dev` proxies the API to a `parley` on 8787 (`make run`).
const api = "http://127.0.0.1:8787";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: { sourcemap: false, chunkSizeWarningLimit: 600 },
  server: {
    proxy: Object.fromEntries(
      [
        "/config.json",
        "/dev",
        "/share",
        "/chat-session",
        "/chat-sessions",
        "/session",
        "/session-message",
        "/chat-config",
        "/chat-configs",
        "/create-chat",
        "/models",
        "^/room/", // not /rooms, the app's own page
        "/chat-room",
        "/chat-rooms",
      ].map((p) => [p, api]),
    ),
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
