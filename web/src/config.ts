/** What `/config.json` says: one build serves the local server and the cloud. */
export interface AppConfig {
  mode: "local" | "cloud";
  /** Where the API is; empty means the page's own origin. */
  apiBase: string;
  /** Where the streaming routes are (the cloud serves them from another API). */
  streamBase: string;
  cognito?: { domain: string; clientId: string; region: string };
}

let current: AppConfig = { mode: "local", apiBase: "", streamBase: "" };

export function config(): AppConfig {
  return current;
}

export function setConfig(next: AppConfig): void {
  current = next;
}

export async function loadConfig(): Promise<AppConfig> {
  const response = await fetch("/config.json", { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`/config.json answered ${response.status}`);
  const raw = (await response.json()) as Partial<AppConfig>;
  const loaded: AppConfig = {
    mode: raw.mode === "cloud" ? "cloud" : "local",
    apiBase: (raw.apiBase ?? "").replace(/\/$/, ""),
    streamBase: (raw.streamBase ?? raw.apiBase ?? "").replace(/\/$/, ""),
    cognito: raw.cognito,
  };
  setConfig(loaded);
  return loaded;
}
