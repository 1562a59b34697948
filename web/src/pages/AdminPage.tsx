import { useInfiniteQuery, useQueries, useQueryClient } from "@tanstack/react-query";
import { ShieldAlert } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { api } from "../api/client";
import { describeProblem } from "../api/problem";
import type { BotList, BotView } from "../api/types";
import { useAuth } from "../auth/useAuth";
import { Dialog } from "../components/Dialog";
import { Button, Card, ErrorNote, PageTitle, Spinner } from "../components/ui";
import { getBot, setSuspended } from "./bots/api";
import { SHARING_LABELS } from "./bots/form";
import { SuspendedBadge } from "./bots/ui";

/** Admin: every bot with its owner and today's use; suspend and unsuspend. */
export default function AdminPage() {
  const auth = useAuth();
  const admin = auth?.groups.includes("admin") ?? false;
  if (!admin) {
    return (
      <div className="p-4 sm:p-6">
        <Card className="mx-auto max-w-md text-center">
          <ShieldAlert className="mx-auto size-8 text-zinc-500" aria-hidden="true" />
          <PageTitle>Admins only</PageTitle>
          <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">
            This page is for administrators. Ask one if you need a bot suspended or restored.
          </p>
        </Card>
      </div>
    );
  }
  return <AllBots />;
}

function AllBots() {
  const queryClient = useQueryClient();
  const bots = useInfiniteQuery({
    queryKey: ["bots", "all"],
    queryFn: ({ pageParam }) =>
      api<BotList>(
        `/chat-configs?scope=all&limit=100${pageParam ? `&next=${encodeURIComponent(pageParam)}` : ""}`,
      ),
    initialPageParam: "",
    getNextPageParam: (last) => last.next ?? undefined,
  });
  const items = bots.data?.pages.flatMap((p) => p.items) ?? [];
  const usage = useQueries({
    queries: items.map((b) => ({ queryKey: ["bot", b.chatConfigId], queryFn: () => getBot(b.chatConfigId) })),
  });
  const [confirm, setConfirm] = useState<BotView | null>(null);
  const [busy, setBusy] = useState(false);

  const toggle = async (bot: BotView) => {
    setBusy(true);
    try {
      const next = await setSuspended(bot.chatConfigId, !bot.suspended);
      queryClient.setQueryData(["bot", next.chatConfigId], next);
      await queryClient.invalidateQueries({ queryKey: ["bots"] });
      toast.success(next.suspended ? `${next.title} is suspended` : `${next.title} can chat again`);
    } catch (e) {
      toast.error(describeProblem(e));
    } finally {
      setBusy(false);
      setConfirm(null);
    }
  };

  const totals = usage.reduce(
    (t, q) => ({
      messages: t.messages + (q.data?.messagesToday ?? 0),
      tokens: t.tokens + (q.data?.tokensToday ?? 0),
    }),
    { messages: 0, tokens: 0 },
  );

  return (
    <div className="mx-auto flex max-w-5xl flex-col gap-6 p-4 sm:p-6">
      <PageTitle>Admin</PageTitle>
      {bots.isPending ? (
        <Spinner />
      ) : bots.error ? (
        <ErrorNote>{describeProblem(bots.error)}</ErrorNote>
      ) : (
        <>
          <dl className="grid grid-cols-3 gap-2 sm:gap-3">
            <Stat label="Bots" value={items.length} />
            <Stat label="Messages today" value={totals.messages} />
            <Stat label="Tokens today" value={totals.tokens} />
          </dl>
          {items.length === 0 ? (
            <Card className="text-center">No bots yet.</Card>
          ) : (
            <div className="overflow-x-auto rounded-2xl border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900">
              <table className="w-full text-left text-sm">
                <caption className="sr-only">All bots</caption>
                <thead className="border-b border-zinc-200 text-zinc-600 dark:border-zinc-800 dark:text-zinc-400">
                  <tr>
                    <th scope="col" className="px-4 py-3 font-medium">
                      Bot
                    </th>
                    <th scope="col" className="hidden px-4 py-3 font-medium sm:table-cell">
                      Owner
                    </th>
                    <th scope="col" className="hidden px-4 py-3 font-medium md:table-cell">
                      Sharing
                    </th>
                    <th scope="col" className="px-4 py-3 text-right font-medium">
                      Today
                    </th>
                    <th scope="col" className="px-4 py-3">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
                  {items.map((b, i) => {
                    const u = usage[i]?.data;
                    const current = u ?? b;
                    return (
                      <tr key={b.chatConfigId} data-bot={b.chatConfigId}>
                        <th scope="row" className="px-4 py-3 font-normal">
                          <span className="flex flex-wrap items-center gap-2 font-medium">
                            {b.title}
                            {current.suspended && <SuspendedBadge />}
                          </span>
                          <span className="block text-zinc-600 dark:text-zinc-400">{b.model}</span>
                          <span className="block break-all text-xs text-zinc-600 sm:hidden dark:text-zinc-400">
                            Owner {b.ownerId}
                          </span>
                        </th>
                        <td className="hidden break-all px-4 py-3 font-mono text-xs sm:table-cell">
                          {b.ownerId}
                        </td>
                        <td className="hidden px-4 py-3 md:table-cell">{SHARING_LABELS[b.sharing.mode]}</td>
                        <td className="whitespace-nowrap px-4 py-3 text-right tabular-nums">
                          {u ? (
                            <>
                              {u.messagesToday ?? 0} msgs
                              <span className="block text-zinc-600 dark:text-zinc-400">
                                {u.tokensToday ?? 0} tokens
                              </span>
                            </>
                          ) : (
                            "…"
                          )}
                        </td>
                        <td className="px-4 py-3 text-right">
                          <Button
                            variant={current.suspended ? "primary" : "secondary"}
                            aria-label={`${current.suspended ? "Unsuspend" : "Suspend"} ${b.title}`}
                            onClick={() => (current.suspended ? void toggle(current) : setConfirm(current))}
                            disabled={busy}
                          >
                            {current.suspended ? "Unsuspend" : "Suspend"}
                          </Button>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
          {bots.hasNextPage && (
            <Button variant="secondary" onClick={() => void bots.fetchNextPage()}>
              Show more
            </Button>
          )}
        </>
      )}
      <Dialog
        open={confirm !== null}
        title={`Suspend ${confirm?.title ?? ""}?`}
        onClose={() => setConfirm(null)}
      >
        <p className="text-sm">
          Only its owner can chat with it until you unsuspend it: its share link and rooms stop answering
          others. Its chats and settings stay.
        </p>
        <div className="mt-6 flex justify-end gap-3">
          <Button variant="secondary" onClick={() => setConfirm(null)}>
            Cancel
          </Button>
          <Button variant="danger" onClick={() => confirm && void toggle(confirm)} disabled={busy}>
            Suspend
          </Button>
        </div>
      </Dialog>
    </div>
  );
}

function Stat({ label, value }: { label: string; value: number }) {
  return (
    <div className="rounded-2xl border border-zinc-200 bg-white p-3 sm:p-4 dark:border-zinc-800 dark:bg-zinc-900">
      <dt className="text-xs text-zinc-600 sm:text-sm dark:text-zinc-400">{label}</dt>
      <dd className="mt-1 text-xl font-semibold tabular-nums sm:text-2xl">{value}</dd>
    </div>
  );
}
