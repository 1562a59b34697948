import { useInfiniteQuery } from "@tanstack/react-query";
import { MessagesSquare } from "lucide-react";
import { Link } from "react-router";
import { api } from "../api/client";
import { describeProblem } from "../api/problem";
import type { SessionList } from "../api/types";
import { Button, Card, ErrorNote, PageTitle, Spinner } from "../components/ui";

/** "My chats": the signed-in user's sessions, newest first as the API lists them. */
export default function ChatsPage() {
  const sessions = useInfiniteQuery({
    queryKey: ["sessions"],
    queryFn: ({ pageParam }) =>
      api<SessionList>(`/chat-sessions?limit=50${pageParam ? `&next=${encodeURIComponent(pageParam)}` : ""}`),
    initialPageParam: "",
    getNextPageParam: (last) => last.next ?? undefined,
  });
  const items = sessions.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="mx-auto max-w-3xl p-4 sm:p-6">
      <PageTitle>My chats</PageTitle>
      <div className="mt-6">
        {sessions.isPending ? (
          <Spinner />
        ) : sessions.error ? (
          <ErrorNote>{describeProblem(sessions.error)}</ErrorNote>
        ) : items.length === 0 ? (
          <Card className="text-center">
            <MessagesSquare className="mx-auto size-8 text-zinc-500" aria-hidden="true" />
            <p className="mt-2 font-medium">No chats yet</p>
            <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
              Open a bot's share link, or start a chat with one of{" "}
              <Link to="/bots" className="text-accent underline dark:text-indigo-300">
                your bots
              </Link>
              .
            </p>
          </Card>
        ) : (
          <ul className="divide-y divide-zinc-200 overflow-hidden rounded-2xl border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800">
            {items.map((s) => (
              <li key={s.sessionId}>
                <Link
                  to={`/chat/${s.sessionId}`}
                  className="flex min-h-14 flex-col justify-center px-4 py-3 hover:bg-zinc-50 dark:hover:bg-zinc-900"
                >
                  <span className="truncate font-medium">{s.title || s.bot?.title || "Chat"}</span>
                  <span className="truncate text-sm text-zinc-600 dark:text-zinc-400">
                    {s.bot ? `${s.bot.title} · ` : ""}
                    {new Date(s.updatedAt).toLocaleString([], { dateStyle: "medium", timeStyle: "short" })}
                    {s.canSend === false ? " · closed" : ""}
                  </span>
                </Link>
              </li>
            ))}
          </ul>
        )}
        {sessions.hasNextPage && (
          <Button variant="secondary" className="mt-4 w-full" onClick={() => void sessions.fetchNextPage()}>
            Show more
          </Button>
        )}
      </div>
    </div>
  );
}
