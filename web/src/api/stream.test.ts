import { afterEach, describe, expect, it, vi } from "vitest";
import { charCount, followReply, readEvents } from "./stream";

/** A body that delivers `chunks` one read at a time. */
function body(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
}

afterEach(() => vi.unstubAllGlobals());

describe("the stream reader", () => {
  it("puts events back together when the network splits them anywhere", async () => {
    const whole =
      ": keep-alive\n\n" +
      'event: user\ndata: {"seq":1,"role":"user","content":"hi","replySeq":2}\n\n' +
      'event: delta\nid: 5\ndata: {"text":"Hello"}\n\n' +
      'event: delta\nid: 8\ndata: {"text":" 🌊!"}\n\n' +
      'event: done\ndata: {"reply":{"seq":2,"role":"assistant","content":"Hello 🌊!","status":"complete"}}\n\n';
    // Split into 3-byte chunks: inside field names, inside JSON, inside the emoji's bytes.
    const bytes = new TextEncoder().encode(whole);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 3) chunks.push(bytes.slice(i, i + 3));
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(chunk);
        c.close();
      },
    });
    const seen: string[] = [];
    await readEvents(stream, {
      onUser: (m) => seen.push(`user ${m.replySeq}`),
      onDelta: (text, id) => seen.push(`delta ${JSON.stringify(text)} ${id}`),
      onDone: (reply) => seen.push(`done ${reply?.status}`),
    });
    expect(seen).toEqual(["user 2", 'delta "Hello" 5', 'delta " 🌊!" 8', "done complete"]);
  });

  it("reports an error event as a problem with its code", async () => {
    const codes: string[] = [];
    await readEvents(
      body([
        'event: delta\nid: 3\ndata: {"text":"abc"}\n\nevent: error\ndata: {"status":502,"code":"provider_',
        'error","detail":"x"}\n\n',
      ]),
      { onError: (p) => codes.push(p.code) },
    );
    expect(codes).toEqual(["provider_error"]);
  });

  it("resumes a reply after the characters it already has (Last-Event-ID)", async () => {
    const fetch = vi.fn(
      async (_url: string, _init?: RequestInit) =>
        new Response(
          body(['event: delta\nid: 12\ndata: {"text":"!"}\n\nevent: done\ndata: {"reply":null}\n\n']),
          {
            status: 200,
            headers: { "content-type": "text/event-stream" },
          },
        ),
    );
    vi.stubGlobal("fetch", fetch);
    const deltas: Array<number | undefined> = [];
    const had = "Hello wörld"; // 11 characters, 12 UTF-8 bytes
    await followReply(
      { sessionId: "s1", seq: 4, charsSoFar: charCount(had), token: "t" },
      {
        onDelta: (_t, id) => deltas.push(id),
      },
    );
    const [url, init] = fetch.mock.calls[0] ?? [];
    expect(url).toBe("/session/s1/messages/4/stream");
    expect(((init?.headers ?? {}) as Record<string, string>)["last-event-id"]).toBe("11");
    expect(deltas).toEqual([12]);
  });

  it("counts characters as the server does (code points, not UTF-16 units)", () => {
    expect(charCount("🌊🌊")).toBe(2);
    expect(charCount("wörld")).toBe(5);
  });
});

describe("in the cloud", () => {
  it("streams from the streaming API and stops through the JSON API", async () => {
    const { setConfig } = await import("../config");
    const { sendStreaming, stopReply } = await import("./stream");
    setConfig({ mode: "cloud", apiBase: "https://x.example/api", streamBase: "https://x.example/stream" });
    const urls: string[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) => {
        urls.push(url);
        return new Response(body([]), { status: 200 });
      }),
    );
    await sendStreaming({ sessionId: "s1", message: "hi", clientMessageId: "c1", token: "t" }, {});
    await stopReply({ sessionId: "s1", seq: 2, token: "t" });
    setConfig({ mode: "local", apiBase: "", streamBase: "" });
    expect(urls).toEqual([
      "https://x.example/stream/session-message/stream",
      "https://x.example/api/session/s1/messages/2/stop",
    ]);
  });
});
