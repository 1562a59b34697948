import { afterEach, describe, expect, it, vi } from "vitest";
import { api } from "./client";
import { ApiProblem, describeProblem, nextUtcMidnight } from "./problem";

function problem(status: number, body: object, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/problem+json", ...headers },
  });
}

afterEach(() => vi.unstubAllGlobals());

describe("the API client", () => {
  it("turns a problem+json answer into an ApiProblem with its code, field and Retry-After", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () =>
        problem(
          429,
          {
            type: "about:blank",
            title: "Rate limited",
            status: 429,
            code: "rate_limited",
            detail: "slow down",
          },
          {
            "retry-after": "7",
          },
        ),
      ),
    );
    const error = await api("/chat-session", { method: "POST", body: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiProblem);
    const p = error as ApiProblem;
    expect([p.status, p.code, p.detail, p.retryAfter]).toEqual([429, "rate_limited", "slow down", 7]);
    expect(describeProblem(p)).toBe("Too many requests. Try again in 7 seconds.");
  });

  it("keeps the field a validation problem names", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () =>
        problem(400, { code: "validation_failed", detail: "title is empty", field: "title" }),
      ),
    );
    const p = (await api("/x").catch((e: unknown) => e)) as ApiProblem;
    expect(p.field).toBe("title");
    expect(describeProblem(p)).toContain("title is empty");
  });

  it("reads a non-JSON failure by its status, and a network failure as offline", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response("<html>bad gateway</html>", { status: 502 })),
    );
    const p = (await api("/x").catch((e: unknown) => e)) as ApiProblem;
    expect(p.code).toBe("server_error");
    expect(describeProblem(p)).not.toContain("<html>");

    vi.stubGlobal(
      "fetch",
      vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))),
    );
    const offline = (await api("/x").catch((e: unknown) => e)) as ApiProblem;
    expect(offline.code).toBe("offline");
    expect(describeProblem(offline)).toMatch(/offline/);
  });

  it("never shows raw JSON: every known code reads as a sentence", () => {
    for (const code of [
      "quota_exceeded",
      "rate_limited",
      "bot_suspended",
      "provider_error",
      "provider_timeout",
      "provider_not_configured",
      "not_found",
      "offline",
      "unauthorized",
      "forbidden",
      "service_unavailable",
      "internal",
    ]) {
      const text = describeProblem(new ApiProblem({ status: 400, code, detail: '{"code":"x"}' }));
      expect(text, code).toMatch(/^[A-Z].*\.$/);
      expect(text, code).not.toContain("{");
    }
  });

  it("says a daily quota resets at 00:00 UTC and a guest's allowance asks to sign in", () => {
    expect(nextUtcMidnight(new Date("2026-12-02T23:59:00Z")).toISOString()).toBe("2026-12-03T00:00:00.000Z");
    const daily = new ApiProblem({
      status: 429,
      code: "quota_exceeded",
      detail: "quota exceeded: your daily messages",
    });
    expect(describeProblem(daily)).toContain("(00:00 UTC)");
    const guest = new ApiProblem({
      status: 429,
      code: "quota_exceeded",
      detail: "quota exceeded: this guest session's messages",
    });
    expect(describeProblem(guest)).toContain("Sign in");
  });

  it("sends the signed-in user's token, or none when asked", async () => {
    const fetch = vi.fn(async (_url: string, _init?: RequestInit) => new Response("{}", { status: 200 }));
    vi.stubGlobal("fetch", fetch);
    await api("/share/x", { token: null });
    await api("/session/1", { token: "guest-token" });
    const headers = fetch.mock.calls.map((c) => (c[1]?.headers ?? {}) as Record<string, string>);
    expect(headers[0]?.authorization).toBeUndefined();
    expect(headers[1]?.authorization).toBe("Bearer guest-token");
  });
});
