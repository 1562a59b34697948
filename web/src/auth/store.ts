/** Who is signed in, kept in local storage so a reload keeps it. */
export interface Tokens {
  /** The bearer the API takes (an ID token). */
  idToken: string;
  accessToken?: string;
  /** Epoch milliseconds when `idToken` expires. */
  expiresAt: number;
  email: string;
  groups: string[];
}

const KEY = "parley.auth";
const GUEST_PREFIX = "parley.guest.";
const SHARE_PREFIX = "parley.share.";
type Listener = () => void;
const listeners = new Set<Listener>();

export function loadTokens(): Tokens | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const tokens = JSON.parse(raw) as Tokens;
    return tokens.expiresAt > Date.now() ? tokens : null;
  } catch {
    return null;
  }
}

export function saveTokens(tokens: Tokens | null): void {
  if (tokens) localStorage.setItem(KEY, JSON.stringify(tokens));
  else localStorage.removeItem(KEY);
  for (const l of listeners) l();
}

export function onTokensChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The claims of a JWT's payload (not verified: the API verifies). */
export function claims(jwt: string): Record<string, unknown> {
  const part = jwt.split(".")[1];
  if (!part) return {};
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(json) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Email and groups from an ID token. */
export function identity(idToken: string): { email: string; groups: string[] } {
  const c = claims(idToken);
  const groups = Array.isArray(c["cognito:groups"]) ? (c["cognito:groups"] as unknown[]).map(String) : [];
  return { email: typeof c.email === "string" ? c.email : String(c.sub ?? ""), groups };
}

/** A guest's token for one session, kept so a reload on this browser goes on. */
export function guestToken(sessionId: string): string | null {
  return localStorage.getItem(GUEST_PREFIX + sessionId);
}

export function saveGuest(sessionId: string, token: string, shareCode?: string): void {
  localStorage.setItem(GUEST_PREFIX + sessionId, token);
  if (shareCode) localStorage.setItem(SHARE_PREFIX + shareCode, sessionId);
}

export function forgetGuest(sessionId: string): void {
  localStorage.removeItem(GUEST_PREFIX + sessionId);
}

/** The guest session this browser started from a share code, if it still has its token. */
export function guestSessionFor(shareCode: string): string | null {
  const id = localStorage.getItem(SHARE_PREFIX + shareCode);
  return id && guestToken(id) ? id : null;
}

/** Milliseconds until a token expiring at `expiresAt` should be renewed: a minute early
 * (or a tenth of its life when that is shorter), never negative. */
export function renewDelay(expiresAt: number, now: number, lifetimeMs?: number): number {
  const lead = Math.min(60_000, lifetimeMs !== undefined ? lifetimeMs / 10 : 60_000);
  return Math.max(0, expiresAt - now - lead);
}
