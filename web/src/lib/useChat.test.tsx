import { act, renderHook, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { useChat } from "./useChat";

function sse(text: string): Response {
  return new Response(text, { status: 200, headers: { "content-type": "text/event-stream" } });
}

afterEach(() => vi.unstubAllGlobals());

describe("a send that failed", () => {
  it("is retried with the same clientMessageId, so the server stores it once", async () => {
    const sends: Array<{ clientMessageId: string; message: string }> = [];
    let attempt = 0;
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        if (url.endsWith("/messages?limit=30")) {
          return new Response(JSON.stringify({ messages: [], next: null }), { status: 200 });
        }
        sends.push(JSON.parse(String(init?.body)));
        attempt += 1;
        if (attempt === 1) {
          return new Response(JSON.stringify({ status: 504, code: "provider_timeout", detail: "slow" }), {
            status: 504,
            headers: { "content-type": "application/problem+json" },
          });
        }
        return sse(
          'event: user\ndata: {"seq":1,"role":"user","authorId":"guest","content":"hi","status":"complete","createdAt":"2026-12-02T00:00:00Z","replySeq":2}\n\n' +
            'event: delta\nid: 2\ndata: {"text":"ok"}\n\n' +
            'event: done\ndata: {"reply":{"seq":2,"role":"assistant","authorId":"bot","content":"ok","status":"complete","createdAt":"2026-12-02T00:00:01Z"}}\n\n',
        );
      }),
    );
    const { result } = renderHook(() => useChat("s1", "token"));
    await waitFor(() => expect(result.current.loading).toBe(false));

    await act(() => result.current.send("hi"));
    const failed = result.current.items.find((m) => m.failed);
    expect(failed?.failed).toBe("The AI model took too long to answer. Try again.");

    await act(async () => {
      if (failed) result.current.retry(failed);
    });
    await waitFor(() => expect(result.current.items.map((m) => m.content)).toEqual(["hi", "ok"]));
    expect(sends).toHaveLength(2);
    expect(sends[0]?.clientMessageId).toBeTruthy();
    expect(sends[1]?.clientMessageId).toBe(sends[0]?.clientMessageId);
    expect(result.current.items.some((m) => m.failed)).toBe(false);
  });
});

describe("a page opened while a reply is being written", () => {
  it("follows it from the characters the history already shows", async () => {
    const calls: Array<{ url: string; lastEventId?: string }> = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        const headers = (init?.headers ?? {}) as Record<string, string>;
        calls.push({ url, lastEventId: headers["last-event-id"] });
        if (url.includes("/messages?limit=30")) {
          return new Response(
            JSON.stringify({
              messages: [
                {
                  seq: 1,
                  role: "user",
                  authorId: "u",
                  content: "q",
                  status: "complete",
                  createdAt: "2026-12-02T00:00:00Z",
                  replySeq: 2,
                },
                {
                  seq: 2,
                  role: "assistant",
                  authorId: "bot",
                  content: "Hel",
                  status: "streaming",
                  createdAt: "2026-12-02T00:00:01Z",
                },
              ],
              next: null,
            }),
            { status: 200 },
          );
        }
        return sse(
          'event: delta\nid: 5\ndata: {"text":"lo"}\n\n' +
            'event: done\ndata: {"reply":{"seq":2,"role":"assistant","authorId":"bot","content":"Hello","status":"complete","createdAt":"2026-12-02T00:00:01Z"}}\n\n',
        );
      }),
    );
    const { result } = renderHook(() => useChat("s1", "token"));
    await waitFor(() => expect(result.current.items.at(-1)?.status).toBe("complete"));
    expect(result.current.items.at(-1)?.content).toBe("Hello");
    expect(calls[1]).toEqual({ url: "/session/s1/messages/2/stream", lastEventId: "3" });
  });
});

describe("older messages", () => {
  it("load page by page with ?before=, oldest first, until there are no more", async () => {
    const urls: string[] = [];
    const message = (seq: number) => ({
      seq,
      role: seq % 2 ? "user" : "assistant",
      authorId: "u",
      content: `m${seq}`,
      status: "complete",
      createdAt: "2026-12-02T00:00:00Z",
    });
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) => {
        urls.push(url);
        const page = url.includes("before=3")
          ? { messages: [1, 2].map(message), next: null }
          : { messages: [3, 4].map(message), next: 3 };
        return new Response(JSON.stringify(page), { status: 200 });
      }),
    );
    const { result } = renderHook(() => useChat("s1", "token"));
    await waitFor(() => expect(result.current.items.map((m) => m.seq)).toEqual([3, 4]));
    expect(result.current.older).toBe(3);
    await act(() => result.current.loadOlder());
    expect(result.current.items.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(result.current.older).toBeNull();
    expect(urls).toEqual(["/session/s1/messages?limit=30", "/session/s1/messages?limit=30&before=3"]);
  });
});
