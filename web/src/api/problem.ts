/** An API refusal as people read it: a sentence for its problem `code`, never JSON. */
export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly field?: string;
  /** Seconds from `Retry-After`, when the answer had one. */
  readonly retryAfter?: number;

  constructor(init: { status: number; code: string; detail?: string; field?: string; retryAfter?: number }) {
    super(init.detail || init.code);
    this.name = "ApiProblem";
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail ?? "";
    this.field = init.field;
    this.retryAfter = init.retryAfter;
  }
}

/** The problem a failed `response` carries, whatever its body is. */
export async function problemFrom(response: Response): Promise<ApiProblem> {
  const retry = response.headers.get("retry-after");
  const retryAfter = retry !== null && /^\d+$/.test(retry.trim()) ? Number(retry.trim()) : undefined;
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  return problemFromBody(response.status, body, retryAfter);
}

export function problemFromBody(status: number, body: unknown, retryAfter?: number): ApiProblem {
  const b = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
  const code = typeof b.code === "string" ? b.code : codeForStatus(status);
  return new ApiProblem({
    status,
    code,
    detail: typeof b.detail === "string" ? b.detail : undefined,
    field: typeof b.field === "string" ? b.field : undefined,
    retryAfter,
  });
}

function codeForStatus(status: number): string {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "server_error";
  return "bad_request";
}

/** The network failed (offline, server gone). */
export const OFFLINE = new ApiProblem({ status: 0, code: "offline" });

/** The next 00:00 UTC after `now`, when daily quotas reset. */
export function nextUtcMidnight(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}

/** One sentence for what went wrong, and what the person can do. */
export function describeProblem(error: unknown, now: Date = new Date()): string {
  if (!(error instanceof ApiProblem)) {
    return "Something went wrong. Please try again.";
  }
  switch (error.code) {
    case "offline":
      return "You seem to be offline. Check your connection and try again.";
    case "quota_exceeded": {
      if (/guest/i.test(error.detail)) {
        return "You have used all the messages a guest gets in this chat. Sign in to keep talking.";
      }
      const reset = nextUtcMidnight(now);
      const time = reset.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      return `The daily message allowance is used up. It resets at ${time} (00:00 UTC).`;
    }
    case "rate_limited":
      return error.retryAfter !== undefined
        ? `Too many requests. Try again in ${formatWait(error.retryAfter)}.`
        : "Too many requests. Wait a moment and try again.";
    case "bot_suspended":
      return "This bot has been suspended by an administrator and cannot chat right now.";
    case "provider_error":
      return "The AI model had a problem answering. Try again in a moment.";
    case "provider_timeout":
      return "The AI model took too long to answer. Try again.";
    case "provider_not_configured":
      return "This bot's AI model is not set up on this server. Ask the bot's owner to pick another model.";
    case "not_found":
      return "This was not found. It may have been deleted, or the link has changed.";
    case "unauthorized":
      return "Your sign-in has expired. Please sign in again.";
    case "forbidden":
      return "You are not allowed to do that.";
    case "payload_too_large":
      return "That is too long to send.";
    case "validation_failed":
      return error.detail ? `Please check your input: ${error.detail}` : "Please check your input.";
    case "precondition_failed":
      return "Someone else changed this meanwhile. Reload to see their changes.";
    case "service_unavailable":
    case "server_error":
    case "internal":
      return "The server had a problem. Try again in a moment.";
    default:
      return error.detail || "Something went wrong. Please try again.";
  }
}
