import { execSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { defineConfig, devices } from "@playwright/test";

// One real `parley` for the run, on a free port and a fresh data directory. The config is
// read again in every worker, so the choice is made once and handed down in the environment.
if (!process.env.PARLEY_E2E_PORT) {
  process.env.PARLEY_E2E_PORT = execSync(
    `node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"`,
  )
    .toString()
    .trim();
  process.env.PARLEY_E2E_DATA = mkdtempSync(join(tmpdir(), "parley-e2e-"));
}
const port = process.env.PARLEY_E2E_PORT;
const targetDir = process.env.CARGO_TARGET_DIR ?? join(process.env.HOME ?? "/root", ".cache/parley/target");
const parley = process.env.PARLEY_BIN ?? join(targetDir, "debug/parley");
export const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results/artifacts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" },
  },
  projects: [{ name: "chromium", use: { ...devices["Desktop Chrome"] } }],
  webServer: {
    command: parley,
    url: `${baseURL}/health`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      PORT: port ?? "",
      PARLEY_DATA_DIR: process.env.PARLEY_E2E_DATA ?? "",
      PARLEY_WEB_DIR: process.env.PARLEY_WEB_DIR ?? resolve("dist"),
      PARLEY_DEV_SIGN_IN: "on",
      PARLEY_PUBLIC_URL: baseURL,
      // The journeys start more sessions from one address than a person would; the
      // limits themselves are the API's tests' business.
      PARLEY_SESSION_STARTS_PER_MINUTE: "1000",
      PARLEY_SENDS_PER_MINUTE: "1000",
      RUST_LOG: "warn",
    },
  },
});
