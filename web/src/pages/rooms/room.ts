import type { MessageView } from "../../api/types";

/** The link that admits someone to a room: the app's `/join/{roomId}/{inviteCode}`. */
export function inviteUrl(origin: string, roomId: string, inviteCode: string): string {
  return `${origin}/join/${encodeURIComponent(roomId)}/${encodeURIComponent(inviteCode)}`;
}

/** A share code from what a person pasted: a share link (`…/s/{code}`) or the code itself. */
export function shareCodeFrom(input: string): string {
  const text = input.trim();
  const match = /\/s\/([^/?#\s]+)/.exec(text);
  return match?.[1] ? decodeURIComponent(match[1]) : text;
}

/** Whether a message asks the bot in a room that answers mentions only. */
export function mentionsBot(text: string): boolean {
  return /(^|[^\w@])@bot\b/i.test(text);
}

const FINAL = new Set(["complete", "stopped", "failed"]);

/** `items` with `incoming` merged in by seq, oldest first. A reply still being written
 * keeps the longer of the two texts, so a slow poll never shortens what a stream showed. */
export function mergeRoom(items: MessageView[], incoming: MessageView[]): MessageView[] {
  const bySeq = new Map<number, MessageView>();
  for (const m of items) bySeq.set(m.seq, m);
  for (const m of incoming) {
    const old = bySeq.get(m.seq);
    if (old && !FINAL.has(m.status) && FINAL.has(old.status)) continue;
    if (old && !FINAL.has(m.status) && [...old.content].length > [...m.content].length) {
      bySeq.set(m.seq, { ...m, content: old.content });
      continue;
    }
    bySeq.set(m.seq, m);
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** The `after` a poll asks with: before the first message still being written (so its
 * growing text comes again), else after the newest one. */
export function pollAfter(items: MessageView[]): number {
  const open = items.filter((m) => !FINAL.has(m.status)).map((m) => m.seq);
  if (open.length) return Math.max(0, Math.min(...open) - 1);
  return items.reduce((max, m) => Math.max(max, m.seq), 0);
}

/** Who wrote a message, as the room shows it. */
export function authorLabel(m: MessageView, me: string | undefined, botTitle = "Bot"): string {
  if (m.role === "assistant") return botTitle;
  if (me && m.authorId === me) return "You";
  return m.authorName || "A member";
}
