import { createParser, type EventSourceMessage } from "eventsource-parser";
import { raw } from "./client";
import type { ApiProblem } from "./problem";
import { problemFromBody } from "./problem";
import type { MessageView } from "./types";

/** What a reply's stream tells, event by event (see the README's "Streaming replies"). */
export interface StreamHandlers {
  /** The stored user message; its `replySeq` is the reply's seq. */
  onUser?: (message: MessageView) => void;
  /** More text; `charsSoFar` is the event id (the reply's length so far, in characters),
   * what a resume passes back as `Last-Event-ID`. */
  onDelta?: (text: string, charsSoFar: number | undefined) => void;
  /** The stored reply (`complete` or `stopped`), or null when no reply is stored. */
  onDone?: (reply: MessageView | null) => void;
  /** The reply failed while streaming; it is stored `failed`. */
  onError?: (problem: ApiProblem) => void;
}

/** Reads server-sent events from `body` until it ends, calling `handlers` per event. */
export async function readEvents(body: ReadableStream<Uint8Array>, handlers: StreamHandlers): Promise<void> {
  const parser = createParser({ onEvent: (event) => dispatch(event, handlers) });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.feed(decoder.decode(value, { stream: true }));
  }
}

function dispatch(event: EventSourceMessage, handlers: StreamHandlers): void {
  let data: unknown;
  try {
    data = JSON.parse(event.data);
  } catch {
    return;
  }
  switch (event.event) {
    case "user":
      handlers.onUser?.(data as MessageView);
      break;
    case "delta": {
      const id = event.id !== undefined && /^\d+$/.test(event.id) ? Number(event.id) : undefined;
      handlers.onDelta?.((data as { text?: string }).text ?? "", id);
      break;
    }
    case "done":
      handlers.onDone?.((data as { reply?: MessageView | null } | null)?.reply ?? null);
      break;
    case "error": {
      const status = (data as { status?: number }).status ?? 502;
      handlers.onError?.(problemFromBody(status, data));
      break;
    }
  }
}

/** Sends `message` to a session with the reply streamed. A refusal before the stream
 * starts throws the API's problem. */
export async function sendStreaming(
  args: {
    sessionId: string;
    message: string;
    clientMessageId: string;
    token: string | null;
    signal?: AbortSignal;
  },
  handlers: StreamHandlers,
): Promise<void> {
  const response = await raw("/session-message/stream", {
    method: "POST",
    body: { sessionId: args.sessionId, message: args.message, clientMessageId: args.clientMessageId },
    token: args.token,
    signal: args.signal,
    stream: true,
    headers: { accept: "text/event-stream" },
  });
  if (!response.body) return;
  await readEvents(response.body, handlers);
}

/** Follows a reply being written, from `charsSoFar` characters on (`Last-Event-ID`). */
export async function followReply(
  args: { sessionId: string; seq: number; charsSoFar: number; token: string | null; signal?: AbortSignal },
  handlers: StreamHandlers,
): Promise<void> {
  const response = await raw(`/session/${encodeURIComponent(args.sessionId)}/messages/${args.seq}/stream`, {
    token: args.token,
    signal: args.signal,
    stream: true,
    headers: { accept: "text/event-stream", "last-event-id": String(args.charsSoFar) },
  });
  if (!response.body) return;
  await readEvents(response.body, handlers);
}

/** Asks the server to stop a reply being written; it keeps what was written. */
export async function stopReply(args: {
  sessionId: string;
  seq: number;
  token: string | null;
}): Promise<void> {
  // The stop route is the JSON API's (session-message), not the streaming API's.
  await raw(`/session/${encodeURIComponent(args.sessionId)}/messages/${args.seq}/stop`, {
    method: "POST",
    token: args.token,
  });
}

/** The character count of `text` as the server counts it (Unicode scalar values). */
export function charCount(text: string): number {
  return [...text].length;
}
