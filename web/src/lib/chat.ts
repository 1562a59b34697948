import type { MessageView } from "../api/types";

/** A message in the chat: a stored one, or a send not stored yet (negative seq). */
export interface ChatItem extends MessageView {
  /** A send that failed before it was stored: what to tell, and its id for Retry. */
  failed?: string;
  /** Whether sending it again can help (not when an allowance is used up). */
  retryable?: boolean;
  /** A reply that failed while it streamed. */
  replyError?: string;
}

/** `items` with `incoming` merged in by seq (incoming wins), sorted. */
export function mergeMessages(items: ChatItem[], incoming: ChatItem[]): ChatItem[] {
  const bySeq = new Map<number, ChatItem>();
  for (const m of items) bySeq.set(m.seq, m);
  for (const m of incoming) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => order(a) - order(b));
}

/** Stored messages by seq; unsent ones (negative seq) after them, oldest first. */
function order(m: ChatItem): number {
  return m.seq >= 0 ? m.seq : Number.MAX_SAFE_INTEGER / 2 - m.seq;
}

function who(m: MessageView, botTitle: string): string {
  if (m.role === "assistant") return botTitle;
  return m.authorName ?? "You";
}

/** The conversation as Markdown, for download. */
export function toMarkdown(title: string, botTitle: string, messages: MessageView[]): string {
  const lines = [`# ${title}`, ""];
  for (const m of messages) {
    lines.push(`**${who(m, botTitle)}** · ${new Date(m.createdAt).toISOString()}`, "", m.content, "");
  }
  return lines.join("\n");
}

export function toJson(session: unknown, messages: MessageView[]): string {
  return JSON.stringify({ session, messages }, null, 2);
}

/** Saves `text` as a file named `name` through the browser's download. */
export function download(name: string, text: string, type: string): void {
  const blob = new Blob([text], { type });
  const href = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(href), 1000);
}

/** A file name from a title: letters, digits and dashes. */
export function fileName(title: string, ext: string): string {
  const base = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  return `${base || "chat"}.${ext}`;
}

export const MESSAGE_MAX = 8000;
