import { useQuery, useQueryClient } from "@tanstack/react-query";
import {
  AlertCircle,
  ArrowDown,
  Check,
  Copy,
  Download,
  MoreVertical,
  Pencil,
  RotateCcw,
  SendHorizontal,
  Settings2,
  Square,
  Trash2,
} from "lucide-react";
import { type FormEvent, type KeyboardEvent, useEffect, useLayoutEffect, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { toast } from "sonner";
import { api, tokenForSession } from "../api/client";
import { ApiProblem, describeProblem } from "../api/problem";
import { charCount } from "../api/stream";
import type { BotView, History, MessageView, ModelsList, SessionView } from "../api/types";
import { forgetGuest, guestToken } from "../auth/store";
import { useAuth } from "../auth/useAuth";
import { Dialog } from "../components/Dialog";
import { Markdown } from "../components/Markdown";
import { Button, Card, ErrorNote, inputClass, Spinner } from "../components/ui";
import { type ChatItem, download, fileName, MESSAGE_MAX, toJson, toMarkdown } from "../lib/chat";
import { useChat } from "../lib/useChat";
import { NotFoundCard } from "./NotFoundPage";

function time(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function TypingIndicator() {
  return (
    <div role="status" aria-label="The bot is typing" className="flex gap-1 px-1 py-2">
      <span className="typing-dot size-2 rounded-full bg-zinc-500" />
      <span className="typing-dot size-2 rounded-full bg-zinc-500" />
      <span className="typing-dot size-2 rounded-full bg-zinc-500" />
    </div>
  );
}

function CopyButton({ text }: { text: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      aria-label="Copy message"
      onClick={() =>
        void navigator.clipboard?.writeText(text).then(() => {
          setDone(true);
          toast.success("Copied");
          window.setTimeout(() => setDone(false), 1500);
        })
      }
      className="inline-flex size-11 items-center justify-center rounded-md text-zinc-600 hover:bg-zinc-100 dark:text-zinc-400 dark:hover:bg-zinc-800"
    >
      {done ? (
        <Check className="size-4" aria-hidden="true" />
      ) : (
        <Copy className="size-4" aria-hidden="true" />
      )}
    </button>
  );
}

function Message({
  item,
  botTitle,
  typing,
  onRetry,
}: {
  item: ChatItem;
  botTitle: string;
  typing: boolean;
  onRetry: (item: ChatItem) => void;
}) {
  const mine = item.role === "user";
  const failed = item.failed ?? item.replyError;
  return (
    <li className={`group flex flex-col ${mine ? "items-end" : "items-start"}`} data-role={item.role}>
      <div className="mb-1 flex items-center gap-2 text-xs text-zinc-600 dark:text-zinc-400">
        <span className="font-medium">{mine ? "You" : botTitle}</span>
        <time
          dateTime={item.createdAt}
          className="opacity-0 transition-opacity group-focus-within:opacity-100 group-hover:opacity-100"
        >
          {time(item.createdAt)}
        </time>
      </div>
      <div
        className={
          mine
            ? "max-w-[85%] rounded-2xl rounded-br-md bg-accent px-4 py-2 whitespace-pre-wrap break-words text-white"
            : "w-full min-w-0"
        }
        data-status={item.status}
      >
        {mine ? (
          item.content
        ) : typing && !item.content ? (
          <TypingIndicator />
        ) : (
          <Markdown text={item.content} />
        )}
        {item.status === "stopped" && (
          <p className="mt-1 text-xs text-zinc-600 dark:text-zinc-400">Stopped.</p>
        )}
      </div>
      {failed && (
        <div
          role="alert"
          className="mt-2 flex flex-wrap items-center gap-2 text-sm text-red-700 dark:text-red-300"
        >
          <AlertCircle className="size-4" aria-hidden="true" />
          <span>{failed}</span>
          {item.retryable !== false && (
            <Button variant="secondary" onClick={() => onRetry(item)}>
              <RotateCcw className="size-4" aria-hidden="true" />
              Retry
            </Button>
          )}
        </div>
      )}
      {item.content && item.status !== "streaming" && item.status !== "pending" && !item.failed && (
        <div className="opacity-100 md:opacity-0 md:group-focus-within:opacity-100 md:group-hover:opacity-100">
          <CopyButton text={item.content} />
        </div>
      )}
    </li>
  );
}

export default function ChatPage() {
  const { sessionId = "" } = useParams();
  const auth = useAuth();
  const token = tokenForSession(sessionId);
  const guest = guestToken(sessionId) !== null;
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const session = useQuery({
    queryKey: ["session", sessionId, token],
    queryFn: () => api<SessionView>(`/session/${encodeURIComponent(sessionId)}`, { token }),
    enabled: token !== null,
    retry: false,
  });
  const chat = useChat(sessionId, token);
  // The owner's own sessions name their bot: its policy says which settings a session may
  // change. Elsewhere the policy is not public; the API refuses what it does not allow.
  const ownBot = session.data?.chatConfigId;
  const policy = useQuery({
    queryKey: ["bot", ownBot],
    queryFn: () => api<BotView>(`/chat-config/${ownBot}`, { token }),
    enabled: Boolean(ownBot) && !guest,
    select: (b) => b.sessionOverrides,
  });
  const allowed = policy.data
    ? {
        model: policy.data.models.length > 0,
        models: policy.data.models,
        temperature: policy.data.temperature,
        systemPrompt: policy.data.systemPrompt,
      }
    : { model: true, models: null, temperature: true, systemPrompt: true };
  const anySetting = allowed.model || allowed.temperature || allowed.systemPrompt;
  const [draft, setDraft] = useState("");
  const [menu, setMenu] = useState(false);
  const [dialog, setDialog] = useState<null | "rename" | "settings" | "delete">(null);
  const scroller = useRef<HTMLDivElement>(null);
  const [atBottom, setAtBottom] = useState(true);
  const heightBefore = useRef<number | null>(null);
  const composer = useRef<HTMLTextAreaElement>(null);

  // Keep the newest message in view while the reader is at the bottom.
  // biome-ignore lint/correctness/useExhaustiveDependencies: follow every change of the conversation
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (heightBefore.current !== null) {
      el.scrollTop += el.scrollHeight - heightBefore.current;
      heightBefore.current = null;
    } else if (atBottom) {
      el.scrollTop = el.scrollHeight;
    }
  }, [chat.items, chat.phase]);

  useEffect(() => {
    if (!chat.loading) composer.current?.focus();
  }, [chat.loading]);

  function onScroll() {
    const el = scroller.current;
    if (!el) return;
    setAtBottom(el.scrollHeight - el.scrollTop - el.clientHeight < 64);
    if (el.scrollTop < 120 && chat.older !== null && !chat.loadingOlder) {
      heightBefore.current = el.scrollHeight;
      void chat.loadOlder();
    }
  }

  function jumpToLatest() {
    const el = scroller.current;
    if (el) el.scrollTo({ top: el.scrollHeight, behavior: "smooth" });
    setAtBottom(true);
  }

  const busy = chat.phase !== "idle";
  const length = charCount(draft);
  const tooLong = length > MESSAGE_MAX;
  const canSend = session.data?.canSend !== false && !chat.quotaHit;

  function submit(e?: FormEvent) {
    e?.preventDefault();
    const text = draft.trim();
    if (!text || tooLong || busy || !canSend) return;
    setDraft("");
    setAtBottom(true);
    void chat.send(text);
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  }

  function retry(item: ChatItem) {
    if (item.failed) return chat.retry(item);
    // A failed reply: send its question again with the same clientMessageId.
    const question = chat.items.find((m) => m.role === "user" && m.replySeq === item.seq);
    if (question) chat.retry(question);
  }

  async function exportAs(kind: "md" | "json") {
    setMenu(false);
    // The conversation as stored, every page of it.
    let all: MessageView[] = [];
    let before: number | null | undefined;
    try {
      do {
        const cursor = before != null ? `&before=${before}` : "";
        const page = await api<History>(`/session/${sessionId}/messages?limit=100${cursor}`, { token });
        all = [...page.messages, ...all];
        before = page.next;
      } while (before != null);
    } catch (e) {
      toast.error(describeProblem(e));
      return;
    }
    const title = session.data?.title || botTitle;
    if (kind === "md") download(fileName(title, "md"), toMarkdown(title, botTitle, all), "text/markdown");
    else download(fileName(title, "json"), toJson(session.data, all), "application/json");
  }

  if (token === null) {
    return (
      <div className="p-6 pt-16">
        <NotFoundCard title="This chat is not open here">
          Sign in with the account that started it, or open the bot's share link again.
        </NotFoundCard>
      </div>
    );
  }
  if (chat.loadError || session.error) {
    const error = chat.loadError ?? session.error;
    return (
      <div className="p-6 pt-16">
        {error instanceof ApiProblem && (error.code === "not_found" || error.code === "unauthorized") ? (
          <NotFoundCard title="Chat not found">
            This chat was deleted, or it belongs to someone else.
          </NotFoundCard>
        ) : (
          <Card className="mx-auto max-w-md">
            <ErrorNote>{describeProblem(error)}</ErrorNote>
          </Card>
        )}
      </div>
    );
  }

  const bot = session.data?.bot;
  const botTitle = bot?.title ?? "Bot";
  const last = chat.items[chat.items.length - 1];
  const typing =
    chat.phase === "waiting" || (chat.phase === "streaming" && last?.role === "assistant" && !last.content);

  return (
    <div className="flex h-full flex-col">
      <header className="flex min-h-14 items-center gap-2 border-b border-zinc-200 px-4 dark:border-zinc-800">
        <div className="min-w-0 flex-1">
          <h1 className="truncate font-semibold">{session.data?.title || botTitle}</h1>
          <p className="truncate text-xs text-zinc-600 dark:text-zinc-400">
            {bot
              ? [
                  session.data?.title && session.data.title !== bot.title ? bot.title : null,
                  session.data?.overrides.model ?? bot.model,
                ]
                  .filter(Boolean)
                  .join(" · ")
              : " "}
          </p>
        </div>
        {guest && (
          <span className="hidden rounded-full bg-zinc-100 px-3 py-1 text-xs text-zinc-700 sm:inline dark:bg-zinc-800 dark:text-zinc-300">
            Guest chat
          </span>
        )}
        <div className="relative">
          <button
            type="button"
            aria-label="Chat options"
            aria-haspopup="menu"
            aria-expanded={menu}
            onClick={() => setMenu((m) => !m)}
            className="inline-flex size-11 items-center justify-center rounded-lg hover:bg-zinc-100 dark:hover:bg-zinc-800"
          >
            <MoreVertical className="size-5" aria-hidden="true" />
          </button>
          {menu && (
            <div
              role="menu"
              tabIndex={-1}
              onKeyDown={(e) => e.key === "Escape" && setMenu(false)}
              className="absolute right-0 z-20 mt-1 w-56 rounded-xl border border-zinc-200 bg-white p-1 shadow-lg dark:border-zinc-800 dark:bg-zinc-900"
            >
              {[
                { label: "Rename", icon: Pencil, act: () => setDialog("rename") },
                ...(anySetting
                  ? [{ label: "Settings", icon: Settings2, act: () => setDialog("settings") }]
                  : []),
                { label: "Export as Markdown", icon: Download, act: () => void exportAs("md") },
                { label: "Export as JSON", icon: Download, act: () => void exportAs("json") },
                { label: "Delete chat", icon: Trash2, act: () => setDialog("delete") },
              ].map(({ label, icon: Icon, act }) => (
                <button
                  key={label}
                  type="button"
                  role="menuitem"
                  onClick={() => {
                    setMenu(false);
                    act();
                  }}
                  className="flex min-h-11 w-full items-center gap-3 rounded-lg px-3 text-left text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800"
                >
                  <Icon className="size-4" aria-hidden="true" />
                  {label}
                </button>
              ))}
            </div>
          )}
        </div>
      </header>

      <div ref={scroller} onScroll={onScroll} className="relative min-h-0 flex-1 overflow-y-auto">
        <div className="mx-auto w-full max-w-3xl px-4 py-6">
          {chat.loadingOlder && <Spinner label="Loading older messages…" />}
          {chat.loading ? (
            <Spinner />
          ) : chat.items.length === 0 ? (
            <div className="py-10 text-center">
              <p className="text-sm text-zinc-600 dark:text-zinc-400">{botTitle} says:</p>
              <div className="mx-auto mt-2 max-w-xl rounded-2xl bg-zinc-100 p-4 text-left dark:bg-zinc-800">
                <Markdown text={bot?.greeting || `Hello! Ask ${botTitle} anything.`} />
              </div>
            </div>
          ) : (
            <ol className="flex flex-col gap-6" aria-label="Conversation">
              {chat.items.map((item) => (
                <Message
                  key={item.seq}
                  item={item}
                  botTitle={botTitle}
                  typing={typing && item === last}
                  onRetry={retry}
                />
              ))}
              {chat.phase === "waiting" && last?.role === "user" && (
                <li className="flex flex-col items-start">
                  <span className="mb-1 text-xs font-medium text-zinc-600 dark:text-zinc-400">
                    {botTitle}
                  </span>
                  <TypingIndicator />
                </li>
              )}
            </ol>
          )}
        </div>
      </div>
      {!atBottom && (
        <div className="pointer-events-none relative">
          <button
            type="button"
            onClick={jumpToLatest}
            className="pointer-events-auto absolute -top-14 left-1/2 inline-flex min-h-11 -translate-x-1/2 items-center gap-2 rounded-full border border-zinc-200 bg-white px-4 text-sm shadow-md dark:border-zinc-700 dark:bg-zinc-900"
          >
            <ArrowDown className="size-4" aria-hidden="true" />
            Jump to latest
          </button>
        </div>
      )}

      <div className="border-t border-zinc-200 bg-white px-4 py-3 dark:border-zinc-800 dark:bg-zinc-950">
        <div className="mx-auto w-full max-w-3xl">
          {chat.quotaHit ? (
            <div className="mb-2">
              <ErrorNote>
                {chat.quotaHit}
                {guest && !auth && (
                  <>
                    {" "}
                    <Link
                      to={`/sign-in?next=${encodeURIComponent(`/chat/${sessionId}`)}`}
                      className="underline"
                    >
                      Sign in
                    </Link>
                  </>
                )}
              </ErrorNote>
              {guest && (
                <p className="mt-1 text-xs text-zinc-600 dark:text-zinc-400">0 guest messages left.</p>
              )}
            </div>
          ) : session.data?.canSend === false ? (
            <div className="mb-2">
              <ErrorNote>
                This chat is closed: its share link was changed or turned off. You can still read it.
              </ErrorNote>
            </div>
          ) : null}
          <form onSubmit={submit} className="flex items-end gap-2">
            <label htmlFor="composer" className="sr-only">
              Message
            </label>
            <textarea
              id="composer"
              ref={composer}
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
              onKeyDown={onKeyDown}
              rows={1}
              disabled={!canSend}
              placeholder={canSend ? `Message ${botTitle}` : "Sending is closed"}
              aria-describedby="composer-count"
              className={`${inputClass} max-h-48 min-h-11 resize-none py-2.5 [field-sizing:content]`}
            />
            {busy ? (
              <Button variant="secondary" onClick={() => void chat.stop()} aria-label="Stop the reply">
                <Square className="size-4" aria-hidden="true" />
                <span className="hidden sm:inline">Stop</span>
              </Button>
            ) : (
              <Button type="submit" disabled={!draft.trim() || tooLong || !canSend} aria-label="Send">
                <SendHorizontal className="size-4" aria-hidden="true" />
                <span className="hidden sm:inline">Send</span>
              </Button>
            )}
          </form>
          <p
            id="composer-count"
            className={`mt-1 text-right text-xs ${tooLong ? "text-red-700 dark:text-red-400" : "text-zinc-600 dark:text-zinc-400"}`}
          >
            {length.toLocaleString()} / {MESSAGE_MAX.toLocaleString()}
            <span className="sr-only"> characters. Enter sends, Shift+Enter starts a new line.</span>
          </p>
        </div>
      </div>

      <RenameDialog
        open={dialog === "rename"}
        current={session.data?.title ?? ""}
        onClose={() => setDialog(null)}
        onSave={async (title) => {
          await api(`/session/${sessionId}`, { method: "PUT", body: { title }, token });
          await queryClient.invalidateQueries({ queryKey: ["session", sessionId] });
          await queryClient.invalidateQueries({ queryKey: ["sessions"] });
          toast.success("Renamed");
        }}
      />
      <SettingsDialog
        open={dialog === "settings"}
        session={session.data}
        allowed={allowed}
        onClose={() => setDialog(null)}
        onSave={async (changes) => {
          await api(`/session/${sessionId}`, { method: "PUT", body: changes, token });
          await queryClient.invalidateQueries({ queryKey: ["session", sessionId] });
          toast.success("Settings saved");
        }}
      />
      <Dialog open={dialog === "delete"} title="Delete this chat?" onClose={() => setDialog(null)}>
        <p className="text-zinc-700 dark:text-zinc-300">The conversation is deleted for good.</p>
        <div className="mt-6 flex justify-end gap-2">
          <Button variant="secondary" onClick={() => setDialog(null)}>
            Cancel
          </Button>
          <Button
            variant="danger"
            onClick={async () => {
              try {
                await api(`/session/${sessionId}`, { method: "DELETE", token });
                forgetGuest(sessionId);
                await queryClient.invalidateQueries({ queryKey: ["sessions"] });
                toast.success("Chat deleted");
                navigate(auth ? "/chats" : "/");
              } catch (e) {
                toast.error(describeProblem(e));
              }
            }}
          >
            Delete
          </Button>
        </div>
      </Dialog>
    </div>
  );
}

function RenameDialog({
  open,
  current,
  onClose,
  onSave,
}: {
  open: boolean;
  current: string;
  onClose: () => void;
  onSave: (title: string) => Promise<void>;
}) {
  const [title, setTitle] = useState(current);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (open) {
      setTitle(current);
      setError(null);
    }
  }, [open, current]);
  return (
    <Dialog open={open} title="Rename chat" onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            await onSave(title.trim());
            onClose();
          } catch (err) {
            setError(describeProblem(err));
          }
        }}
        className="flex flex-col gap-4"
      >
        <label className="flex flex-col gap-1 text-sm font-medium">
          Title
          <input
            value={title}
            onChange={(e) => setTitle(e.target.value)}
            maxLength={120}
            className={inputClass}
          />
        </label>
        {error && <ErrorNote>{error}</ErrorNote>}
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" disabled={!title.trim()}>
            Save
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

/** The session's own model, temperature and prompt, where the bot's owner allows them;
 * the API says which it refuses. */
interface Allowed {
  model: boolean;
  /** The models a session may pick, when known. */
  models: string[] | null;
  temperature: boolean;
  systemPrompt: boolean;
}

function SettingsDialog({
  open,
  session,
  allowed,
  onClose,
  onSave,
}: {
  open: boolean;
  session: SessionView | undefined;
  allowed: Allowed;
  onClose: () => void;
  onSave: (changes: Record<string, unknown>) => Promise<void>;
}) {
  const models = useQuery({
    queryKey: ["models"],
    queryFn: () => api<ModelsList>("/models"),
    enabled: open && allowed.model,
  });
  const choices = (models.data?.items ?? []).filter((m) => !allowed.models || allowed.models.includes(m.id));
  const [model, setModel] = useState("");
  const [temperature, setTemperature] = useState("");
  const [prompt, setPrompt] = useState("");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (open && session) {
      setModel(session.overrides.model ?? "");
      setTemperature(session.overrides.temperature != null ? String(session.overrides.temperature) : "");
      setPrompt(session.overrides.systemPrompt ?? "");
      setError(null);
    }
  }, [open, session]);
  return (
    <Dialog open={open} title="Chat settings" onClose={onClose}>
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        Change this chat only, where the bot's owner allows it. Leave a field empty to use the bot's own.
      </p>
      <form
        className="mt-4 flex flex-col gap-4"
        onSubmit={async (e) => {
          e.preventDefault();
          const changes: Record<string, unknown> = {};
          if (model) changes.model = model;
          if (temperature) changes.temperature = Number(temperature);
          if (prompt.trim()) changes.systemPrompt = prompt;
          try {
            await onSave(changes);
            onClose();
          } catch (err) {
            setError(describeProblem(err));
          }
        }}
      >
        {allowed.model && (
          <label className="flex flex-col gap-1 text-sm font-medium">
            Model
            <select value={model} onChange={(e) => setModel(e.target.value)} className={inputClass}>
              <option value="">The bot's model</option>
              {choices.map((m) => (
                <option key={m.id} value={m.id} disabled={!m.configured}>
                  {m.id}
                  {m.configured ? "" : " (not set up on this server)"}
                </option>
              ))}
            </select>
          </label>
        )}
        {allowed.temperature && (
          <label className="flex flex-col gap-1 text-sm font-medium">
            Temperature
            <input
              type="number"
              min={0}
              max={2}
              step={0.1}
              value={temperature}
              onChange={(e) => setTemperature(e.target.value)}
              className={inputClass}
              placeholder="The bot's temperature"
            />
          </label>
        )}
        {allowed.systemPrompt && (
          <label className="flex flex-col gap-1 text-sm font-medium">
            Instructions
            <textarea
              value={prompt}
              onChange={(e) => setPrompt(e.target.value)}
              rows={3}
              className={`${inputClass} py-2`}
              placeholder="The bot's instructions"
            />
          </label>
        )}
        {error && <ErrorNote>{error}</ErrorNote>}
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit">Save</Button>
        </div>
      </form>
    </Dialog>
  );
}
