import { useQuery, useQueryClient } from "@tanstack/react-query";
import {
  ArrowLeft,
  ChevronDown,
  DoorOpen,
  LogOut,
  RefreshCw,
  SendHorizontal,
  Trash2,
  UserMinus,
  Users,
} from "lucide-react";
import {
  type FormEvent,
  type KeyboardEvent,
  useCallback,
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
} from "react";
import { Link, useNavigate, useParams } from "react-router";
import { toast } from "sonner";
import { api, newClientMessageId, raw } from "../api/client";
import { ApiProblem, describeProblem } from "../api/problem";
import type { components } from "../api/schema";
import { readEvents } from "../api/stream";
import type { History, MessageView } from "../api/types";
import { claims } from "../auth/store";
import { useAuth } from "../auth/useAuth";
import { Dialog } from "../components/Dialog";
import { Markdown } from "../components/Markdown";
import { Button, Card, ErrorNote, PageTitle, Spinner } from "../components/ui";
import { MESSAGE_MAX } from "../lib/chat";
import { CopyButton } from "./bots/ui";
import { NotFoundCard } from "./NotFoundPage";
import { authorLabel, inviteUrl, mentionsBot, mergeRoom, pollAfter } from "./rooms/room";

type RoomView = components["schemas"]["RoomView"];

const WIDE = "(min-width: 1024px)";
const isWide = () => window.matchMedia(WIDE).matches;
function subscribeWide(onChange: () => void): () => void {
  const query = window.matchMedia(WIDE);
  query.addEventListener("change", onChange);
  return () => query.removeEventListener("change", onChange);
}

/** How often the room asks for new messages (others' messages, bot replies growing). */
const POLL_MS = 1500;

/** A room (`/rooms/:id`), or the invite to one (`/join/:roomId/:inviteCode`). */
export default function RoomPage() {
  const { id, roomId, inviteCode } = useParams();
  if (roomId && inviteCode) return <JoinRoom roomId={roomId} inviteCode={inviteCode} />;
  return <Room roomId={id ?? ""} />;
}

function JoinRoom({ roomId, inviteCode }: { roomId: string; inviteCode: string }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const join = async () => {
    setBusy(true);
    setError(null);
    try {
      await api<RoomView>(`/room/${encodeURIComponent(roomId)}/join`, {
        method: "POST",
        body: { inviteCode },
      });
      await queryClient.invalidateQueries({ queryKey: ["rooms"] });
      navigate(`/rooms/${roomId}`, { replace: true });
    } catch (e) {
      setBusy(false);
      setError(
        e instanceof ApiProblem && (e.status === 404 || e.status === 403)
          ? "This invite does not work any more: the room may have been deleted, its link replaced, or its bot is no longer shared with you. Ask for a new link."
          : describeProblem(e),
      );
    }
  };
  return (
    <div className="p-4 sm:p-6">
      <Card className="mx-auto flex max-w-md flex-col items-center gap-4 text-center">
        <Users className="size-8 text-accent" aria-hidden="true" />
        <PageTitle>You are invited to a room</PageTitle>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          A room is a group chat with a bot. Its members see your messages and your name.
        </p>
        {error && <ErrorNote>{error}</ErrorNote>}
        <Button onClick={() => void join()} disabled={busy} className="w-full">
          <DoorOpen className="size-4" aria-hidden="true" />
          Join the room
        </Button>
        <Link to="/rooms" className="text-sm underline">
          Not now
        </Link>
      </Card>
    </div>
  );
}

function Room({ roomId }: { roomId: string }) {
  const auth = useAuth();
  const me = auth ? (claims(auth.idToken).sub as string | undefined) : undefined;
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const path = `/room/${encodeURIComponent(roomId)}`;
  const room = useQuery({
    queryKey: ["room", roomId],
    queryFn: () => api<RoomView>(path),
    refetchInterval: 15_000, // members who join or leave
  });
  const [items, setItems] = useState<MessageView[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<unknown>(null);
  // The cursor of the page before the oldest message shown, while there is one.
  const [older, setOlder] = useState<number | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const itemsRef = useRef(items);
  itemsRef.current = items;
  const [confirm, setConfirm] = useState<
    "leave" | "delete" | "rotate" | { remove: string; name: string } | null
  >(null);

  // The details start open beside the chat on wide screens, folded under it on phones.
  const wide = useSyncExternalStore(subscribeWide, isWide);

  const merge = useCallback((incoming: MessageView[]) => setItems((prev) => mergeRoom(prev, incoming)), []);

  // The latest page first, then polls for what is new, with no reload.
  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    let first = true;
    const tick = async () => {
      // A hidden tab asks nothing; it catches up when seen again.
      if (!first && document.hidden) {
        timer = window.setTimeout(() => void tick(), POLL_MS);
        return;
      }
      try {
        const query = first ? "?limit=100" : `?after=${pollAfter(itemsRef.current)}&limit=100`;
        const page = await api<History>(`${path}/messages${query}`);
        if (stopped) return;
        merge(page.messages);
        if (first) setOlder(page.next ?? null);
        first = false;
        setLoaded(true);
        setLoadError(null);
      } catch (e) {
        if (stopped) return;
        setLoadError(e);
        if (e instanceof ApiProblem && (e.status === 404 || e.status === 403)) return;
      }
      timer = window.setTimeout(() => void tick(), POLL_MS);
    };
    void tick();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [path, merge]);

  const list = useRef<HTMLOListElement>(null);
  const scrolled = useRef(false);
  const count = items.length;
  const lastLength = items.at(-1)?.content.length ?? 0;
  // biome-ignore lint/correctness/useExhaustiveDependencies: follow new messages and growing replies
  useEffect(() => {
    const el = list.current?.parentElement;
    if (!el) return;
    // To the newest on opening; afterwards only while the reader is at the bottom.
    if (!scrolled.current || el.scrollHeight - el.scrollTop - el.clientHeight < 160)
      el.scrollTop = el.scrollHeight;
    if (count > 0) scrolled.current = true;
  }, [count, lastLength]);

  if (room.isPending) return <Spinner />;
  if (room.error) {
    if (room.error instanceof ApiProblem && (room.error.status === 404 || room.error.status === 403)) {
      return (
        <div className="p-4 sm:p-6">
          <NotFoundCard title="Room not found">
            This room does not exist, or you are not one of its members. Ask a member for its invite link.
          </NotFoundCard>
        </div>
      );
    }
    return (
      <div className="mx-auto max-w-3xl p-4 sm:p-6">
        <ErrorNote>{describeProblem(room.error)}</ErrorNote>
      </div>
    );
  }
  const r = room.data;
  const creator = me !== undefined && r.creatorId === me;
  const members = r.members ?? [];

  const act = async () => {
    const c = confirm;
    setConfirm(null);
    try {
      if (c === "delete") {
        await api(path, { method: "DELETE" });
        toast.success("Room deleted");
      } else if (c === "leave" && me) {
        await api(`${path}/members/${encodeURIComponent(me)}`, { method: "DELETE" });
        toast.success("You left the room");
      } else if (c === "rotate") {
        await api<RoomView>(`${path}/invite-link`, { method: "POST" });
        await room.refetch();
        toast.success("New invite link made: the old one no longer admits anyone.");
        return;
      } else if (c && typeof c === "object") {
        await api(`${path}/members/${encodeURIComponent(c.remove)}`, { method: "DELETE" });
        await room.refetch();
        toast.success(`${c.name} was removed`);
        return;
      }
      await queryClient.invalidateQueries({ queryKey: ["rooms"] });
      navigate("/rooms");
    } catch (e) {
      toast.error(describeProblem(e));
    }
  };

  const showOlder = async () => {
    if (older === null) return;
    setLoadingOlder(true);
    try {
      const page = await api<History>(`${path}/messages?before=${older}&limit=100`);
      merge(page.messages);
      setOlder(page.next ?? null);
    } catch (e) {
      toast.error(describeProblem(e));
    } finally {
      setLoadingOlder(false);
    }
  };

  const invite = r.inviteCode ? inviteUrl(window.location.origin, r.roomId, r.inviteCode) : null;

  return (
    <div className="flex h-full flex-col">
      <header className="flex flex-wrap items-center gap-x-3 gap-y-1 border-b border-zinc-200 px-4 py-3 dark:border-zinc-800">
        <Link
          to="/rooms"
          aria-label="All rooms"
          className="inline-flex size-11 items-center justify-center rounded-lg hover:bg-zinc-100 dark:hover:bg-zinc-800"
        >
          <ArrowLeft className="size-5" aria-hidden="true" />
        </Link>
        <div className="min-w-0 flex-1">
          <h1 className="truncate text-lg font-semibold">{r.title || "Room"}</h1>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            {members.length} {members.length === 1 ? "member" : "members"} ·{" "}
            {r.replyMode === "always"
              ? "the bot answers every message"
              : "the bot answers messages with @bot"}
          </p>
        </div>
      </header>
      <div className="flex min-h-0 flex-1 flex-col lg:flex-row">
        <div className="flex min-h-0 flex-1 flex-col">
          {/* Focusable, so the keyboard scrolls the conversation. */}
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus */}
          <div className="min-h-0 flex-1 overflow-y-auto" aria-label="Messages" role="log" tabIndex={0}>
            {!loaded && !loadError ? (
              <Spinner />
            ) : loadError && !loaded ? (
              <div className="p-4">
                <ErrorNote>{describeProblem(loadError)}</ErrorNote>
              </div>
            ) : items.length === 0 ? (
              <p className="mx-auto max-w-md p-8 text-center text-zinc-600 dark:text-zinc-400">
                No messages yet. Say hello
                {r.replyMode === "mention" ? ", and write @bot when you want the bot to answer" : ""}.
              </p>
            ) : (
              <ol ref={list} className="mx-auto flex max-w-3xl flex-col gap-4 px-4 py-6">
                {older !== null && (
                  <li className="flex justify-center">
                    <Button variant="secondary" onClick={() => void showOlder()} disabled={loadingOlder}>
                      Show older messages
                    </Button>
                  </li>
                )}
                {items.map((m) => (
                  <RoomMessage key={m.seq} m={m} me={me} />
                ))}
              </ol>
            )}
          </div>
          {loadError && loaded ? (
            <p role="status" className="px-4 text-sm text-amber-800 dark:text-amber-200">
              {describeProblem(loadError)} New messages will show once the connection is back.
            </p>
          ) : null}
          <Composer path={path} replyMode={r.replyMode} merge={merge} />
        </div>
        <aside
          aria-label="Room details"
          className="order-first max-h-[45%] shrink-0 overflow-y-auto border-b border-zinc-200 px-4 py-1 lg:order-none lg:max-h-none lg:w-80 lg:border-b-0 lg:border-l lg:py-4 dark:border-zinc-800"
        >
          <details open={wide} className="group">
            <summary className="flex min-h-11 cursor-pointer items-center gap-2 font-semibold">
              <Users className="size-4" aria-hidden="true" />
              Members ({members.length}){r.inviteCode ? " and invite link" : ""}
              <ChevronDown
                className="ml-auto size-4 transition-transform group-open:rotate-180"
                aria-hidden="true"
              />
            </summary>
            <ul className="mt-2 flex flex-col gap-1" aria-label="Members">
              {members.map((m) => (
                <li key={m.userId} className="flex min-h-11 items-center justify-between gap-2 text-sm">
                  <span className="truncate">
                    {m.displayName}
                    {m.userId === me ? " (you)" : ""}
                    {m.userId === r.creatorId ? " · opened the room" : ""}
                  </span>
                  {creator && m.userId !== me && (
                    <Button
                      variant="ghost"
                      className="px-2"
                      aria-label={`Remove ${m.displayName}`}
                      onClick={() => setConfirm({ remove: m.userId, name: m.displayName })}
                    >
                      <UserMinus className="size-4" aria-hidden="true" />
                    </Button>
                  )}
                </li>
              ))}
            </ul>
            {invite && (
              <div className="mt-4 flex flex-col gap-2">
                <label htmlFor="invite-link" className="text-sm font-medium">
                  Invite link
                </label>
                <input
                  id="invite-link"
                  readOnly
                  value={invite}
                  onFocus={(e) => e.currentTarget.select()}
                  className="min-h-11 w-full rounded-lg border border-zinc-300 bg-zinc-50 px-3 font-mono text-xs dark:border-zinc-700 dark:bg-zinc-950"
                />
                <div className="flex flex-wrap gap-2">
                  <CopyButton text={invite} label="Copy invite link" done="Invite link copied" />
                  <Button variant="ghost" onClick={() => setConfirm("rotate")}>
                    <RefreshCw className="size-4" aria-hidden="true" />
                    New link
                  </Button>
                </div>
              </div>
            )}
            <div className="mt-4 flex flex-wrap gap-2">
              {creator ? (
                <Button variant="danger" onClick={() => setConfirm("delete")}>
                  <Trash2 className="size-4" aria-hidden="true" />
                  Delete room
                </Button>
              ) : (
                <Button variant="secondary" onClick={() => setConfirm("leave")}>
                  <LogOut className="size-4" aria-hidden="true" />
                  Leave room
                </Button>
              )}
            </div>
          </details>
        </aside>
      </div>
      <Dialog
        open={confirm !== null}
        title={
          confirm === "delete"
            ? "Delete this room?"
            : confirm === "leave"
              ? "Leave this room?"
              : confirm === "rotate"
                ? "Make a new invite link?"
                : `Remove ${typeof confirm === "object" && confirm ? confirm.name : ""}?`
        }
        onClose={() => setConfirm(null)}
      >
        <p className="text-sm">
          {confirm === "delete"
            ? "Its messages are deleted for every member. This cannot be undone."
            : confirm === "leave"
              ? "You will need a new invite link to come back."
              : confirm === "rotate"
                ? "The current invite link stops admitting anyone. Members stay."
                : "They leave the room and need a new invite link to come back."}
        </p>
        <div className="mt-6 flex justify-end gap-3">
          <Button variant="secondary" onClick={() => setConfirm(null)}>
            Cancel
          </Button>
          <Button variant={confirm === "rotate" ? "primary" : "danger"} onClick={() => void act()}>
            {confirm === "delete"
              ? "Delete"
              : confirm === "leave"
                ? "Leave"
                : confirm === "rotate"
                  ? "Make a new link"
                  : "Remove"}
          </Button>
        </div>
      </Dialog>
    </div>
  );
}

function RoomMessage({ m, me }: { m: MessageView; me?: string }) {
  const bot = m.role === "assistant";
  const mine = !bot && m.authorId === me;
  return (
    <li data-role={m.role} className={`flex flex-col gap-1 ${mine ? "items-end" : "items-start"}`}>
      <span className="px-1 text-xs font-medium text-zinc-600 dark:text-zinc-400">
        {authorLabel(m, me)}
        <time dateTime={m.createdAt} className="ml-2 font-normal">
          {new Date(m.createdAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}
        </time>
      </span>
      <div
        data-status={m.status}
        className={`max-w-[min(40rem,90%)] rounded-2xl px-4 py-2 ${
          mine
            ? "bg-accent text-white"
            : bot
              ? "border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900"
              : "bg-zinc-100 dark:bg-zinc-800"
        }`}
      >
        {bot ? (
          m.content ? (
            <Markdown text={m.content} />
          ) : (
            <span className="text-zinc-600 dark:text-zinc-400">Writing…</span>
          )
        ) : (
          <p className="whitespace-pre-wrap [overflow-wrap:anywhere]">{m.content}</p>
        )}
        {m.status === "failed" && (
          <p className="mt-1 text-sm text-red-700 dark:text-red-300">The bot could not finish this reply.</p>
        )}
        {m.status === "stopped" && <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">Stopped.</p>}
      </div>
    </li>
  );
}

function Composer({
  path,
  replyMode,
  merge,
}: {
  path: string;
  replyMode: RoomView["replyMode"];
  merge: (incoming: MessageView[]) => void;
}) {
  const [text, setText] = useState("");
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const send = async (event?: FormEvent) => {
    event?.preventDefault();
    const message = text.trim();
    if (!message || sending) return;
    setSending(true);
    setError(null);
    let reply: MessageView | null = null;
    try {
      const response = await raw(`${path}/messages/stream`, {
        method: "POST",
        body: { message, clientMessageId: newClientMessageId() },
        stream: true,
        headers: { accept: "text/event-stream" },
      });
      setText("");
      if (response.body) {
        await readEvents(response.body, {
          onUser: (user) => {
            merge([user]);
            if (user.replySeq != null) {
              reply = {
                seq: user.replySeq,
                role: "assistant",
                authorId: "bot",
                content: "",
                status: "streaming",
                createdAt: new Date().toISOString(),
              };
            }
          },
          onDelta: (delta) => {
            if (!reply) return;
            reply = { ...reply, content: reply.content + delta };
            merge([reply]);
          },
          onDone: (stored) => {
            if (stored) merge([stored]);
          },
          onError: (problem) => setError(describeProblem(problem)),
        });
      }
    } catch (e) {
      setError(describeProblem(e));
    } finally {
      setSending(false);
    }
  };

  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    }
  };

  const silent = replyMode === "mention" && text.trim() !== "" && !mentionsBot(text);
  return (
    <form
      onSubmit={(e) => void send(e)}
      className="border-t border-zinc-200 bg-white px-4 py-3 dark:border-zinc-800 dark:bg-zinc-950"
    >
      <div className="mx-auto flex max-w-3xl flex-col gap-2">
        {error && <ErrorNote>{error}</ErrorNote>}
        <div className="flex items-end gap-2">
          <label htmlFor="room-message" className="sr-only">
            Message
          </label>
          <textarea
            id="room-message"
            rows={1}
            value={text}
            maxLength={MESSAGE_MAX}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={onKey}
            placeholder={replyMode === "mention" ? "Message (@bot to ask the bot)" : "Message the room"}
            aria-describedby="room-hint"
            className="max-h-40 min-h-11 flex-1 resize-none rounded-xl border border-zinc-300 bg-white px-3 py-2.5 text-base dark:border-zinc-700 dark:bg-zinc-900"
          />
          <Button type="submit" disabled={sending || !text.trim()} aria-label="Send">
            <SendHorizontal className="size-4" aria-hidden="true" />
          </Button>
        </div>
        <p id="room-hint" className="text-xs text-zinc-600 dark:text-zinc-400">
          {silent
            ? "The bot stays quiet: this message does not mention @bot."
            : "Enter sends, Shift+Enter starts a new line."}
        </p>
      </div>
    </form>
  );
}
