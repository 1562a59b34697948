/** `next` when it is a path on this site, else `fallback` (no open redirects). */
export function safeNext(next: string | null, fallback = "/"): string {
  if (!next?.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return fallback;
  return next;
}
