import { useCallback, useEffect, useRef, useState } from "react";
import { api, newClientMessageId } from "../api/client";
import { ApiProblem, describeProblem } from "../api/problem";
import { charCount, followReply, type StreamHandlers, sendStreaming, stopReply } from "../api/stream";
import type { History, MessageView } from "../api/types";
import { type ChatItem, mergeMessages } from "./chat";

const PAGE = 30;

export type Phase = "idle" | "waiting" | "streaming";

/** The conversation of one session: its history, sends with the reply streamed in, a
 * reply being written when the page opened followed to its end, older pages on demand. */
export function useChat(sessionId: string, token: string | null) {
  const [items, setItems] = useState<ChatItem[]>([]);
  const [older, setOlder] = useState<number | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [phase, setPhase] = useState<Phase>("idle");
  const [quotaHit, setQuotaHit] = useState<string | null>(null);
  const replySeq = useRef<number | null>(null);
  const abort = useRef<AbortController | null>(null);
  const localSeq = useRef(-1);

  const upsert = useCallback((m: ChatItem) => setItems((prev) => mergeMessages(prev, [m])), []);

  /** Handlers that grow reply `seq` in place. */
  const replyHandlers = useCallback(
    (base: Partial<StreamHandlers> = {}): StreamHandlers => ({
      ...base,
      onDelta: (text) => {
        setPhase("streaming");
        const seq = replySeq.current;
        if (seq === null) return;
        setItems((prev) => prev.map((m) => (m.seq === seq ? { ...m, content: m.content + text } : m)));
      },
      onDone: (reply) => {
        if (reply) {
          // Its question is answered: no longer pending.
          setItems((prev) =>
            mergeMessages(
              prev.map((m) =>
                m.replySeq === reply.seq && m.status === "pending" ? { ...m, status: "complete" } : m,
              ),
              [reply],
            ),
          );
        }
        setPhase("idle");
      },
      onError: (problem) => {
        const seq = replySeq.current;
        setItems((prev) =>
          prev.map((m) =>
            m.seq === seq ? { ...m, status: "failed" as const, replyError: describeProblem(problem) } : m,
          ),
        );
        setPhase("idle");
      },
    }),
    [],
  );

  /** Follows a reply the history shows as still `streaming`, from the text it has. */
  const resume = useCallback(
    async (reply: MessageView) => {
      replySeq.current = reply.seq;
      setPhase("streaming");
      const controller = new AbortController();
      abort.current = controller;
      try {
        await followReply(
          {
            sessionId,
            seq: reply.seq,
            charsSoFar: charCount(reply.content),
            token,
            signal: controller.signal,
          },
          replyHandlers(),
        );
      } catch (e) {
        if (!(e instanceof DOMException && e.name === "AbortError")) {
          // The reply may have ended meanwhile: read it as stored.
          const page = await api<History>(`/session/${sessionId}/messages?limit=${PAGE}`, { token }).catch(
            () => null,
          );
          if (page) setItems((prev) => mergeMessages(prev, page.messages));
        }
      } finally {
        setPhase("idle");
      }
    },
    [sessionId, token, replyHandlers],
  );

  useEffect(() => {
    let live = true;
    setLoading(true);
    api<History>(`/session/${encodeURIComponent(sessionId)}/messages?limit=${PAGE}`, { token })
      .then((page) => {
        if (!live) return;
        setItems(page.messages);
        setOlder(page.next ?? null);
        const last = page.messages[page.messages.length - 1];
        if (last && last.role === "assistant" && last.status === "streaming") void resume(last);
      })
      .catch((e) => live && setLoadError(e))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
      abort.current?.abort();
    };
  }, [sessionId, token, resume]);

  const loadOlder = useCallback(async () => {
    if (older === null || loadingOlder) return;
    setLoadingOlder(true);
    try {
      const page = await api<History>(
        `/session/${encodeURIComponent(sessionId)}/messages?limit=${PAGE}&before=${older}`,
        { token },
      );
      setItems((prev) => mergeMessages(prev, page.messages));
      setOlder(page.next ?? null);
    } finally {
      setLoadingOlder(false);
    }
  }, [older, loadingOlder, sessionId, token]);

  /** Sends `text` as `clientMessageId` (a retry passes the failed send's own id). */
  const send = useCallback(
    async (text: string, clientMessageId: string = newClientMessageId(), localId?: number) => {
      const seq = localId ?? localSeq.current--;
      const draft: ChatItem = {
        seq,
        role: "user",
        authorId: "me",
        content: text,
        status: "pending",
        createdAt: new Date().toISOString(),
        clientMessageId,
      };
      upsert(draft);
      setPhase("waiting");
      replySeq.current = null;
      const controller = new AbortController();
      abort.current = controller;
      try {
        await sendStreaming(
          { sessionId, message: text, clientMessageId, token, signal: controller.signal },
          replyHandlers({
            onUser: (stored) => {
              replySeq.current = stored.replySeq ?? null;
              setItems((prev) => {
                const without = prev.filter((m) => m.seq !== seq && m.seq !== stored.seq);
                const reply: ChatItem[] =
                  stored.replySeq != null
                    ? [
                        {
                          seq: stored.replySeq,
                          role: "assistant",
                          authorId: "bot",
                          content: "",
                          status: "streaming",
                          createdAt: stored.createdAt,
                        },
                      ]
                    : [];
                return mergeMessages(without, [stored, ...reply]);
              });
            },
          }),
        );
      } catch (e) {
        if (e instanceof DOMException && e.name === "AbortError") return;
        const quota = e instanceof ApiProblem && e.code === "quota_exceeded";
        // The allowance is told once, above the composer; the message just says it was not sent.
        if (quota) setQuotaHit(describeProblem(e));
        const failed = quota ? "Not sent." : describeProblem(e);
        setItems((prev) => prev.map((m) => (m.seq === seq ? { ...m, failed, retryable: !quota } : m)));
      } finally {
        setPhase("idle");
      }
    },
    [sessionId, token, upsert, replyHandlers],
  );

  const retry = useCallback(
    (item: ChatItem) => {
      if (!item.clientMessageId) return;
      void send(item.content, item.clientMessageId, item.seq);
    },
    [send],
  );

  /** Stops the reply being written (it keeps its text); before it started, cancels the send. */
  const stop = useCallback(async () => {
    const seq = replySeq.current;
    if (seq === null) {
      abort.current?.abort();
      setPhase("idle");
      return;
    }
    await stopReply({ sessionId, seq, token }).catch(() => undefined);
  }, [sessionId, token]);

  return { items, older, loading, loadError, loadingOlder, phase, quotaHit, send, retry, stop, loadOlder };
}
