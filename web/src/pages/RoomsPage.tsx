import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Plus, Users } from "lucide-react";
import { type FormEvent, useState } from "react";
import { Link, useNavigate } from "react-router";
import { api } from "../api/client";
import { describeProblem } from "../api/problem";
import type { components } from "../api/schema";
import type { BotList } from "../api/types";
import { Button, Card, ErrorNote, inputClass, PageTitle, Spinner } from "../components/ui";
import { Field, fieldAria, Section } from "./bots/ui";
import { shareCodeFrom } from "./rooms/room";

type RoomList = components["schemas"]["RoomList"];
type RoomView = components["schemas"]["RoomView"];
type ReplyMode = components["schemas"]["ReplyMode"];

/** Rooms: the ones you are in, and a new one on a bot. */
export default function RoomsPage() {
  const rooms = useQuery({ queryKey: ["rooms"], queryFn: () => api<RoomList>("/chat-rooms?limit=100") });
  const [creating, setCreating] = useState(false);
  const items = rooms.data?.items ?? [];
  return (
    <div className="mx-auto flex max-w-3xl flex-col gap-6 p-4 sm:p-6">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <PageTitle>Rooms</PageTitle>
        {!creating && (
          <Button onClick={() => setCreating(true)}>
            <Plus className="size-4" aria-hidden="true" />
            New room
          </Button>
        )}
      </div>
      {creating && <NewRoom onCancel={() => setCreating(false)} />}
      {rooms.isPending ? (
        <Spinner />
      ) : rooms.error ? (
        <ErrorNote>{describeProblem(rooms.error)}</ErrorNote>
      ) : items.length === 0 ? (
        <Card className="text-center">
          <Users className="mx-auto size-8 text-zinc-500" aria-hidden="true" />
          <p className="mt-2 font-medium">No rooms yet</p>
          <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
            A room is a group chat with a bot. Open one on your bot or a shared one, then send its invite
            link.
          </p>
        </Card>
      ) : (
        <ul className="divide-y divide-zinc-200 overflow-hidden rounded-2xl border border-zinc-200 bg-white dark:divide-zinc-800 dark:border-zinc-800 dark:bg-zinc-900">
          {items.map((r) => (
            <li key={r.roomId}>
              <Link
                to={`/rooms/${r.roomId}`}
                className="flex min-h-14 flex-col justify-center px-4 py-3 hover:bg-zinc-50 dark:hover:bg-zinc-800/60"
              >
                <span className="truncate font-medium">{r.title || "Room"}</span>
                <span className="text-sm text-zinc-600 dark:text-zinc-400">
                  {r.replyMode === "always" ? "The bot answers every message" : "The bot answers @bot"}
                  {r.inviteCode ? " · you opened it" : ""}
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function NewRoom({ onCancel }: { onCancel: () => void }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const bots = useQuery({
    queryKey: ["bots", "mine"],
    queryFn: () => api<BotList>("/chat-configs?limit=100"),
  });
  const [title, setTitle] = useState("");
  const [source, setSource] = useState<"mine" | "shared">("mine");
  const [botId, setBotId] = useState("");
  const [link, setLink] = useState("");
  const [replyMode, setReplyMode] = useState<ReplyMode>("mention");
  const [error, setError] = useState<{ field?: string; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const mine = bots.data?.items ?? [];
  const chosen = botId || mine[0]?.chatConfigId || "";
  const useMine = source === "mine" && mine.length > 0;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!useMine && !shareCodeFrom(link)) {
      setError({ field: "shareCode", text: "Paste the bot's share link or code." });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const room = await api<RoomView>("/chat-room", {
        method: "POST",
        body: {
          title: title.trim() || null,
          replyMode,
          ...(useMine ? { chatConfigId: chosen } : { shareCode: shareCodeFrom(link) }),
        },
      });
      await queryClient.invalidateQueries({ queryKey: ["rooms"] });
      navigate(`/rooms/${room.roomId}`);
    } catch (e) {
      setError({ field: useMine ? undefined : "shareCode", text: describeProblem(e) });
      setBusy(false);
    }
  };

  return (
    <Section title="New room">
      <form onSubmit={(e) => void submit(e)} noValidate className="flex flex-col gap-5">
        <Field id="room-title" label="Room name" hint="Optional; the bot's title otherwise.">
          <input
            {...fieldAria("room-title", true)}
            className={inputClass}
            value={title}
            maxLength={120}
            onChange={(e) => setTitle(e.target.value)}
          />
        </Field>
        <fieldset className="flex flex-col gap-2">
          <legend className="mb-1 text-sm font-medium">Which bot</legend>
          <label className="flex min-h-11 items-center gap-3 text-sm">
            <input
              type="radio"
              name="source"
              checked={useMine}
              disabled={mine.length === 0}
              onChange={() => setSource("mine")}
              className="size-5 accent-accent"
            />
            One of my bots{mine.length === 0 && !bots.isPending ? " (you have none yet)" : ""}
          </label>
          <label className="flex min-h-11 items-center gap-3 text-sm">
            <input
              type="radio"
              name="source"
              checked={!useMine}
              onChange={() => setSource("shared")}
              className="size-5 accent-accent"
            />
            A bot someone shared with me
          </label>
        </fieldset>
        {useMine ? (
          <Field
            id="room-bot"
            label="Bot"
            hint={
              mine.find((b) => b.chatConfigId === chosen)?.sharing.mode === "private"
                ? "This bot is private: nobody else can join until you share it."
                : "People you invite chat with it here."
            }
          >
            <select
              {...fieldAria("room-bot", true)}
              className={inputClass}
              value={chosen}
              onChange={(e) => setBotId(e.target.value)}
            >
              {mine.map((b) => (
                <option key={b.chatConfigId} value={b.chatConfigId}>
                  {b.title}
                </option>
              ))}
            </select>
          </Field>
        ) : (
          <Field
            id="room-share"
            label="Share link or code"
            hint="The bot's link as its owner sent it."
            error={error?.field === "shareCode" ? error.text : undefined}
          >
            <input
              {...fieldAria("room-share", true, error?.field === "shareCode" ? error.text : undefined)}
              className={inputClass}
              value={link}
              placeholder="https://…/s/…"
              onChange={(e) => setLink(e.target.value)}
            />
          </Field>
        )}
        <fieldset className="flex flex-col gap-2">
          <legend className="mb-1 text-sm font-medium">When the bot answers</legend>
          <label className="flex min-h-11 items-center gap-3 text-sm">
            <input
              type="radio"
              name="reply"
              checked={replyMode === "mention"}
              onChange={() => setReplyMode("mention")}
              className="size-5 accent-accent"
            />
            When a message mentions @bot
          </label>
          <label className="flex min-h-11 items-center gap-3 text-sm">
            <input
              type="radio"
              name="reply"
              checked={replyMode === "always"}
              onChange={() => setReplyMode("always")}
              className="size-5 accent-accent"
            />
            To every message
          </label>
        </fieldset>
        {error && error.field !== "shareCode" && <ErrorNote>{error.text}</ErrorNote>}
        <div className="flex flex-wrap gap-3">
          <Button type="submit" disabled={busy}>
            Create room
          </Button>
          <Button variant="secondary" onClick={onCancel}>
            Cancel
          </Button>
        </div>
      </form>
    </Section>
  );
}
