import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ArrowLeft, MessageSquarePlus, RefreshCw, Trash2 } from "lucide-react";
import { type FormEvent, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { toast } from "sonner";
import { api } from "../api/client";
import { ApiProblem, describeProblem } from "../api/problem";
import type { BotView, ModelsList, StartedSession } from "../api/types";
import { Dialog } from "../components/Dialog";
import { Button, ErrorNote, inputClass, PageTitle, Spinner } from "../components/ui";
import { createBot, deleteBot, getBot, updateBot } from "./bots/api";
import {
  type BotForm,
  emptyForm,
  type FieldErrors,
  fieldErrorsFrom,
  formFromBot,
  localErrors,
  modelUnavailable,
  requestFromForm,
  SHARING_LABELS,
  type SharingMode,
} from "./bots/form";
import { PersonaSection } from "./bots/PersonaSection";
import { ShareSection } from "./bots/ShareSection";
import { Field, fieldAria, Section, SuspendedBadge } from "./bots/ui";
import { NotFoundCard } from "./NotFoundPage";

// Fields keep clear of the sticky save bar when focus scrolls them into view.
const fieldClass = `${inputClass} scroll-mb-24`;
const textareaClass = `${fieldClass} min-h-24 py-2`;
const checkClass = "size-5 scroll-mb-24 accent-accent";

/** Create (`/bots/new`) or edit (`/bots/:id`) a bot, every field of it. */
export default function BotEditorPage() {
  const { id } = useParams();
  const models = useQuery({ queryKey: ["models"], queryFn: () => api<ModelsList>("/models") });
  const bot = useQuery({ queryKey: ["bot", id], queryFn: () => getBot(id ?? ""), enabled: !!id });
  // A reload after a stale save starts the form again from what is stored.
  const [generation, setGeneration] = useState(0);

  if (models.isPending || (id && bot.isPending)) return <Spinner />;
  if (bot.error instanceof ApiProblem && bot.error.status === 404) return <NotFoundCard />;
  const error = models.error ?? bot.error;
  if (error || !models.data) {
    return (
      <div className="mx-auto max-w-3xl p-4 sm:p-6">
        <ErrorNote>{describeProblem(error)}</ErrorNote>
      </div>
    );
  }
  return (
    <Editor
      key={`${id ?? "new"}-${generation}`}
      bot={id ? bot.data : undefined}
      models={models.data}
      onReload={async () => {
        await bot.refetch();
        setGeneration((g) => g + 1);
      }}
    />
  );
}

function Editor({
  bot: initial,
  models,
  onReload,
}: {
  bot?: BotView;
  models: ModelsList;
  onReload: () => Promise<void>;
}) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [bot, setBot] = useState(initial);
  const [form, setForm] = useState<BotForm>(() =>
    initial ? formFromBot(initial) : emptyForm(models.default),
  );
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saving, setSaving] = useState(false);
  const [stale, setStale] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [starting, setStarting] = useState(false);

  const set = <K extends keyof BotForm>(key: K, value: BotForm[K]) =>
    setForm((f) => ({ ...f, [key]: value }));

  /** Keeps the page and the lists in step with the bot as stored. */
  const stored = (next: BotView) => {
    setBot(next);
    queryClient.setQueryData(["bot", next.chatConfigId], next);
    void queryClient.invalidateQueries({ queryKey: ["bots"] });
  };

  const refused = (e: unknown) => {
    if (e instanceof ApiProblem && e.code === "precondition_failed") {
      setStale(true);
      return;
    }
    const found = fieldErrorsFrom(e);
    setErrors(found);
    focusFirstError();
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const local = localErrors(form);
    setErrors(local);
    if (Object.keys(local).length) {
      focusFirstError();
      return;
    }
    setSaving(true);
    try {
      if (bot) {
        const next = await updateBot(bot.chatConfigId, bot.version, requestFromForm(form));
        stored(next);
        setForm(formFromBot(next));
        toast.success("Saved");
      } else {
        const created = await createBot(requestFromForm(form));
        stored(created);
        toast.success("Bot created");
        navigate(`/bots/${created.chatConfigId}`, { replace: true });
      }
    } catch (e) {
      refused(e);
    } finally {
      setSaving(false);
    }
  };

  /** Sharing changes (stop sharing) saved on their own, keeping the other edits. */
  const saveSharing = async (mode: SharingMode) => {
    if (!bot) return;
    try {
      const next = await updateBot(bot.chatConfigId, bot.version, {
        sharing: { mode, showPrompt: form.showPrompt },
      });
      stored(next);
      set("sharingMode", next.sharing.mode);
      toast.success(mode === "private" ? "Sharing is off: only you can use this bot." : "Sharing updated");
    } catch (e) {
      refused(e);
    }
  };

  const startChat = async () => {
    if (!bot) return;
    setStarting(true);
    try {
      const session = await api<StartedSession>("/chat-session", {
        method: "POST",
        body: { chatConfigId: bot.chatConfigId },
      });
      void queryClient.invalidateQueries({ queryKey: ["sessions"] });
      navigate(`/chat/${session.sessionId}`);
    } catch (e) {
      toast.error(describeProblem(e));
      setStarting(false);
    }
  };

  const remove = async () => {
    if (!bot) return;
    try {
      await deleteBot(bot.chatConfigId);
      queryClient.removeQueries({ queryKey: ["bot", bot.chatConfigId] });
      await queryClient.invalidateQueries({ queryKey: ["bots"] });
      toast.success(`Deleted ${bot.title}`);
      navigate("/bots");
    } catch (e) {
      setConfirmDelete(false);
      toast.error(describeProblem(e));
    }
  };

  const selected = models.items.find((m) => m.id === form.model);
  const otherModels = models.items.filter((m) => m.id !== form.model && m.configured);

  return (
    <div className="mx-auto flex max-w-3xl flex-col gap-6 p-4 sm:p-6">
      <div>
        <Link
          to="/bots"
          className="inline-flex min-h-11 items-center gap-1 text-sm text-zinc-600 hover:underline dark:text-zinc-400"
        >
          <ArrowLeft className="size-4" aria-hidden="true" />
          My bots
        </Link>
        <div className="flex flex-wrap items-center gap-3">
          <PageTitle>{bot ? bot.title : "New bot"}</PageTitle>
          {bot?.suspended && <SuspendedBadge />}
        </div>
        {bot && (
          <div className="mt-3 flex flex-wrap items-center gap-3">
            <Button onClick={() => void startChat()} disabled={starting}>
              <MessageSquarePlus className="size-4" aria-hidden="true" />
              Start a chat
            </Button>
            <p className="text-sm text-zinc-600 dark:text-zinc-400">
              Today: {bot.messagesToday ?? 0} messages, {bot.tokensToday ?? 0} tokens
            </p>
          </div>
        )}
        {bot?.suspended && (
          <p className="mt-3 text-sm text-red-800 dark:text-red-200">
            An administrator suspended this bot: only you can chat with it until it is unsuspended.
          </p>
        )}
      </div>

      {stale && (
        <div
          role="alert"
          className="flex flex-col gap-3 rounded-lg border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900 sm:flex-row sm:items-center dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"
        >
          <p className="flex-1">
            Someone else changed this bot meanwhile (perhaps in another tab). Reload to see their changes;
            your unsaved edits here will be lost.
          </p>
          <Button variant="secondary" onClick={() => void onReload()}>
            <RefreshCw className="size-4" aria-hidden="true" />
            Reload
          </Button>
        </div>
      )}

      {bot && <ShareSection bot={bot} onRotated={stored} onSharing={saveSharing} />}

      <form onSubmit={(e) => void save(e)} noValidate className="flex flex-col gap-6">
        {errors.form && <ErrorNote>{errors.form}</ErrorNote>}
        <Section title="Basics">
          <Field id="title" label="Title" error={errors.title}>
            <input
              {...fieldAria("title", false, errors.title)}
              className={fieldClass}
              value={form.title}
              maxLength={120}
              onChange={(e) => set("title", e.target.value)}
              required
            />
          </Field>
          <Field
            id="description"
            label="Description"
            hint="Shown on the share page."
            error={errors.description}
          >
            <textarea
              {...fieldAria("description", true, errors.description)}
              className={textareaClass}
              value={form.description}
              onChange={(e) => set("description", e.target.value)}
            />
          </Field>
          <Field
            id="greeting"
            label="Greeting"
            hint="The bot's first words, shown before the first message (Markdown)."
            error={errors.greeting}
          >
            <textarea
              {...fieldAria("greeting", true, errors.greeting)}
              className={textareaClass}
              value={form.greeting}
              onChange={(e) => set("greeting", e.target.value)}
            />
          </Field>
          <Field
            id="systemPrompt"
            label="System prompt"
            hint="What the bot is told before every conversation."
            error={errors.systemPrompt}
          >
            <textarea
              {...fieldAria("systemPrompt", true, errors.systemPrompt)}
              className={`${textareaClass} min-h-40`}
              value={form.systemPrompt}
              onChange={(e) => set("systemPrompt", e.target.value)}
            />
          </Field>
        </Section>

        <Section title="Model">
          <Field
            id="model"
            label="Model"
            hint={
              selected && modelUnavailable(selected)
                ? `This model cannot answer now: ${modelUnavailable(selected)}.`
                : "Models whose provider is not set up on this server cannot be picked."
            }
            error={errors.model}
          >
            <select
              {...fieldAria("model", true, errors.model)}
              className={fieldClass}
              value={form.model}
              onChange={(e) => set("model", e.target.value)}
            >
              {models.items.map((m) => {
                const why = modelUnavailable(m);
                return (
                  <option key={m.id} value={m.id} disabled={!!why && m.id !== form.model}>
                    {m.id} ({m.provider}){why ? ` — unavailable: ${why}` : ""}
                  </option>
                );
              })}
            </select>
          </Field>
          <Field
            id="temperature"
            label={
              <>
                Temperature: <output htmlFor="temperature">{form.temperature.toFixed(1)}</output>
              </>
            }
            hint="Lower is focused and repeatable, higher is more varied (0 to 2)."
            error={errors.temperature}
          >
            <input
              {...fieldAria("temperature", true, errors.temperature)}
              type="range"
              min={0}
              max={2}
              step={0.1}
              value={form.temperature}
              onChange={(e) => set("temperature", Number(e.target.value))}
              className="h-11 w-full accent-accent"
            />
          </Field>
          <Field
            id="maxOutputTokens"
            label="Longest reply (tokens)"
            hint="Empty keeps the server's default."
            error={errors.maxOutputTokens}
          >
            <input
              {...fieldAria("maxOutputTokens", true, errors.maxOutputTokens)}
              className={fieldClass}
              inputMode="numeric"
              value={form.maxOutputTokens}
              onChange={(e) => set("maxOutputTokens", e.target.value)}
            />
          </Field>
        </Section>

        <Section title="Sharing">
          <fieldset className="flex flex-col gap-2">
            <legend className="mb-1 text-sm font-medium">Who may chat with it</legend>
            {(Object.keys(SHARING_LABELS) as SharingMode[]).map((mode) => (
              <label key={mode} className="flex min-h-11 items-center gap-3 text-sm">
                <input
                  type="radio"
                  name="sharing"
                  value={mode}
                  checked={form.sharingMode === mode}
                  onChange={() => set("sharingMode", mode)}
                  className={checkClass}
                />
                {SHARING_LABELS[mode]}
                {mode === "anyone" ? " (guests too, no account needed)" : ""}
              </label>
            ))}
          </fieldset>
          <label className="flex min-h-11 items-center gap-3 text-sm">
            <input
              type="checkbox"
              checked={form.showPrompt}
              onChange={(e) => set("showPrompt", e.target.checked)}
              className={checkClass}
            />
            Show the system prompt and persona to people with the link
          </label>
        </Section>

        <Section title="What a chat may change">
          <label className="flex min-h-11 items-center gap-3 text-sm">
            <input
              type="checkbox"
              checked={form.overrideTemperature}
              onChange={(e) => set("overrideTemperature", e.target.checked)}
              className={checkClass}
            />
            Its temperature
          </label>
          <label className="flex min-h-11 items-center gap-3 text-sm">
            <input
              type="checkbox"
              checked={form.showPrompt && form.overrideSystemPrompt}
              disabled={!form.showPrompt}
              aria-describedby="override-prompt-hint"
              onChange={(e) => set("overrideSystemPrompt", e.target.checked)}
              className={checkClass}
            />
            Its system prompt
          </label>
          <p id="override-prompt-hint" className="-mt-4 text-sm text-zinc-600 dark:text-zinc-400">
            Only while the prompt is shown to people with the link.
          </p>
          <fieldset
            className="flex flex-col gap-1"
            aria-describedby={errors["sessionOverrides.models"] ? "models-error" : undefined}
          >
            <legend className="mb-1 text-sm font-medium">Other models a chat may pick</legend>
            {otherModels.length === 0 && (
              <p className="text-sm text-zinc-600 dark:text-zinc-400">
                No other model is set up on this server.
              </p>
            )}
            {otherModels.map((m) => (
              <label key={m.id} className="flex min-h-11 items-center gap-3 text-sm">
                <input
                  type="checkbox"
                  checked={form.overrideModels.includes(m.id)}
                  onChange={(e) =>
                    set(
                      "overrideModels",
                      e.target.checked
                        ? [...form.overrideModels, m.id]
                        : form.overrideModels.filter((x) => x !== m.id),
                    )
                  }
                  className={checkClass}
                />
                {m.id}
              </label>
            ))}
            {errors["sessionOverrides.models"] && (
              <p id="models-error" className="text-sm font-medium text-red-700 dark:text-red-300">
                {errors["sessionOverrides.models"]}
              </p>
            )}
          </fieldset>
        </Section>

        <Section title="Memory and limits">
          <div className="grid gap-5 sm:grid-cols-2">
            <NumberField
              id="memory.maxMessages"
              label="Messages remembered"
              hint="Earlier messages the model reads."
              value={form.memoryMaxMessages}
              error={errors["memory.maxMessages"]}
              onChange={(v) => set("memoryMaxMessages", v)}
            />
            <NumberField
              id="memory.maxTokens"
              label="Memory budget (tokens)"
              hint="Prompt, persona and history together."
              value={form.memoryMaxTokens}
              error={errors["memory.maxTokens"]}
              onChange={(v) => set("memoryMaxTokens", v)}
            />
            <NumberField
              id="limits.dailyMessages"
              label="Messages per day"
              hint="All chats together, reset at 00:00 UTC."
              value={form.dailyMessages}
              error={errors["limits.dailyMessages"]}
              onChange={(v) => set("dailyMessages", v)}
            />
            <NumberField
              id="limits.guestMessagesPerSession"
              label="Messages per guest chat"
              hint="Before a guest is asked to sign in."
              value={form.guestMessagesPerSession}
              error={errors["limits.guestMessagesPerSession"]}
              onChange={(v) => set("guestMessagesPerSession", v)}
            />
          </div>
        </Section>

        <div className="sticky bottom-0 -mx-4 flex flex-wrap items-center gap-3 border-t border-zinc-200 bg-white px-4 py-3 sm:-mx-6 sm:px-6 dark:border-zinc-800 dark:bg-zinc-950">
          <Button type="submit" disabled={saving}>
            {bot ? "Save changes" : "Create bot"}
          </Button>
          <Link to="/bots" className="text-sm text-zinc-700 underline dark:text-zinc-300">
            Cancel
          </Link>
        </div>
      </form>

      {bot ? (
        <PersonaSection botId={bot.chatConfigId} />
      ) : (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          Create the bot first; then you can add persona documents (facts, summary, style, a profile PDF).
        </p>
      )}

      {bot && (
        <Section title="Delete">
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            Deleting the bot ends every chat and room on it. This cannot be undone.
          </p>
          <div>
            <Button variant="danger" onClick={() => setConfirmDelete(true)}>
              <Trash2 className="size-4" aria-hidden="true" />
              Delete bot
            </Button>
          </div>
          <Dialog open={confirmDelete} title={`Delete ${bot.title}?`} onClose={() => setConfirmDelete(false)}>
            <p className="text-sm">
              Its chats, rooms and persona documents go with it. This cannot be undone.
            </p>
            <div className="mt-6 flex justify-end gap-3">
              <Button variant="secondary" onClick={() => setConfirmDelete(false)}>
                Keep it
              </Button>
              <Button variant="danger" onClick={() => void remove()}>
                Delete
              </Button>
            </div>
          </Dialog>
        </Section>
      )}
    </div>
  );
}

function NumberField(props: {
  id: string;
  label: string;
  hint: string;
  value: string;
  error?: string;
  onChange: (value: string) => void;
}) {
  return (
    <Field id={props.id} label={props.label} hint={props.hint} error={props.error}>
      <input
        {...fieldAria(props.id, true, props.error)}
        className={fieldClass}
        inputMode="numeric"
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </Field>
  );
}

/** Moves focus to the first field that was refused, once it is on screen. */
function focusFirstError() {
  window.requestAnimationFrame(() => {
    const first = document.querySelector<HTMLElement>('[aria-invalid="true"]');
    first?.focus();
  });
}
