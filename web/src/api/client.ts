import { guestToken, loadTokens } from "../auth/store";
import { config } from "../config";
import { ApiProblem, OFFLINE, problemFrom } from "./problem";

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** The bearer to send; by default the signed-in user's, if any. `null` sends none. */
  token?: string | null;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Send to the streaming API instead (the cloud serves streams elsewhere). */
  stream?: boolean;
}

/** The bearer for a session: this browser's guest token for it, else the user's. */
export function tokenForSession(sessionId: string): string | null {
  return guestToken(sessionId) ?? loadTokens()?.idToken ?? null;
}

export function url(path: string, stream = false): string {
  const c = config();
  return (stream ? c.streamBase : c.apiBase) + path;
}

/** A fetch to the API; a refusal throws an {@link ApiProblem}, a network failure OFFLINE. */
export async function raw(path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  const token = options.token === undefined ? (loadTokens()?.idToken ?? null) : options.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(url(path, options.stream), {
      method: options.method ?? (body ? "POST" : "GET"),
      headers,
      body,
      signal: options.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw OFFLINE;
  }
  if (!response.ok) throw await problemFrom(response);
  return response;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await raw(path, options);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A new id for a message: retries send the same one, so the API stores it once. */
export function newClientMessageId(): string {
  return crypto.randomUUID();
}

export { ApiProblem };
