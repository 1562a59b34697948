import { useQueries, useQuery } from "@tanstack/react-query";
import { Bot, Plus } from "lucide-react";
import { Link } from "react-router";
import { api } from "../api/client";
import { describeProblem } from "../api/problem";
import type { BotList, BotView } from "../api/types";
import { buttonClass, Card, ErrorNote, PageTitle, Spinner } from "../components/ui";
import { getBot } from "./bots/api";
import { SHARING_LABELS } from "./bots/form";
import { SuspendedBadge } from "./bots/ui";

/** "My bots": each bot with its model, sharing and today's use. */
export default function BotsPage() {
  const bots = useQuery({
    queryKey: ["bots", "mine"],
    queryFn: () => api<BotList>("/chat-configs?limit=100"),
  });
  const items = bots.data?.items ?? [];
  // Today's use is on each bot's own page of the API.
  const usage = useQueries({
    queries: items.map((b) => ({ queryKey: ["bot", b.chatConfigId], queryFn: () => getBot(b.chatConfigId) })),
  });
  const today = (i: number): BotView | undefined => usage[i]?.data;

  return (
    <div className="mx-auto max-w-3xl p-4 sm:p-6">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <PageTitle>My bots</PageTitle>
        <Link to="/bots/new" className={buttonClass("primary")}>
          <Plus className="size-4" aria-hidden="true" />
          New bot
        </Link>
      </div>
      <div className="mt-6">
        {bots.isPending ? (
          <Spinner />
        ) : bots.error ? (
          <ErrorNote>{describeProblem(bots.error)}</ErrorNote>
        ) : items.length === 0 ? (
          <Card className="text-center">
            <Bot className="mx-auto size-8 text-zinc-500" aria-hidden="true" />
            <p className="mt-2 font-medium">No bots yet</p>
            <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
              Make your first bot: give it a title, a prompt and a model, then share its link.
            </p>
            <Link to="/bots/new" className={`${buttonClass("primary")} mt-4`}>
              Create a bot
            </Link>
          </Card>
        ) : (
          <ul className="divide-y divide-zinc-200 overflow-hidden rounded-2xl border border-zinc-200 bg-white dark:divide-zinc-800 dark:border-zinc-800 dark:bg-zinc-900">
            {items.map((b, i) => {
              const u = today(i);
              return (
                <li key={b.chatConfigId}>
                  <Link
                    to={`/bots/${b.chatConfigId}`}
                    className="flex min-h-16 flex-col gap-1 px-4 py-3 hover:bg-zinc-50 dark:hover:bg-zinc-800/60"
                  >
                    <span className="flex flex-wrap items-center gap-2">
                      <span className="truncate font-medium">{b.title}</span>
                      {b.suspended && <SuspendedBadge />}
                    </span>
                    <span className="text-sm text-zinc-600 dark:text-zinc-400">
                      {b.model} · {SHARING_LABELS[b.sharing.mode]}
                      {u ? ` · ${u.tokensToday ?? 0} tokens today (${u.messagesToday ?? 0} messages)` : ""}
                    </span>
                  </Link>
                </li>
              );
            })}
          </ul>
        )}
      </div>
    </div>
  );
}
