import { ApiProblem, describeProblem } from "../../api/problem";
import type { components } from "../../api/schema";
import type { BotView, ModelView } from "../../api/types";

export type BotRequest = components["schemas"]["BotRequest"];
export type SharingMode = components["schemas"]["SharingMode"];
export type PersonaKind = components["schemas"]["PersonaKind"];

/** The editor's fields as the inputs hold them (numbers as typed text). */
export interface BotForm {
  title: string;
  description: string;
  greeting: string;
  systemPrompt: string;
  model: string;
  temperature: number;
  maxOutputTokens: string;
  sharingMode: SharingMode;
  showPrompt: boolean;
  overrideTemperature: boolean;
  overrideSystemPrompt: boolean;
  overrideModels: string[];
  memoryMaxMessages: string;
  memoryMaxTokens: string;
  dailyMessages: string;
  guestMessagesPerSession: string;
}

/** A new bot's fields before the person types anything. */
export function emptyForm(defaultModel: string): BotForm {
  return {
    title: "",
    description: "",
    greeting: "",
    systemPrompt: "",
    model: defaultModel,
    temperature: 0.7,
    maxOutputTokens: "",
    sharingMode: "anyone",
    showPrompt: false,
    overrideTemperature: true,
    overrideSystemPrompt: false,
    overrideModels: [],
    memoryMaxMessages: "",
    memoryMaxTokens: "",
    dailyMessages: "",
    guestMessagesPerSession: "",
  };
}

export function formFromBot(bot: BotView): BotForm {
  return {
    title: bot.title,
    description: bot.description,
    greeting: bot.greeting,
    systemPrompt: bot.systemPrompt,
    model: bot.model,
    temperature: bot.temperature,
    maxOutputTokens: String(bot.maxOutputTokens),
    sharingMode: bot.sharing.mode,
    showPrompt: bot.sharing.showPrompt,
    overrideTemperature: bot.sessionOverrides.temperature,
    overrideSystemPrompt: bot.sessionOverrides.systemPrompt,
    overrideModels: [...bot.sessionOverrides.models],
    memoryMaxMessages: String(bot.memory.maxMessages),
    memoryMaxTokens: String(bot.memory.maxTokens),
    dailyMessages: String(bot.limits.dailyMessages),
    guestMessagesPerSession: String(bot.limits.guestMessagesPerSession),
  };
}

/** A whole number as typed, or null for an empty box (the API keeps its default). A
 * box that is not a number is sent as is, so the API names the field. */
function count(text: string): number | null {
  const t = text.trim();
  if (t === "") return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : Number.NaN;
}

/** The request the API takes for `form`; `version` names the state it was read at. */
export function requestFromForm(form: BotForm, version?: number): BotRequest {
  const request: BotRequest = {
    title: form.title.trim(),
    description: form.description,
    greeting: form.greeting,
    systemPrompt: form.systemPrompt,
    model: form.model,
    temperature: Math.round(form.temperature * 10) / 10,
    maxOutputTokens: count(form.maxOutputTokens),
    sharing: { mode: form.sharingMode, showPrompt: form.showPrompt },
    sessionOverrides: {
      temperature: form.overrideTemperature,
      // A session may replace the prompt only while friends may read it.
      systemPrompt: form.showPrompt && form.overrideSystemPrompt,
      models: form.overrideModels.filter((m) => m !== form.model),
    },
    memory: { maxMessages: count(form.memoryMaxMessages), maxTokens: count(form.memoryMaxTokens) },
    limits: {
      dailyMessages: count(form.dailyMessages),
      guestMessagesPerSession: count(form.guestMessagesPerSession),
    },
  };
  if (version !== undefined) request.version = version;
  return request;
}

/** Checks made before sending, so the obvious mistakes show at once. */
export function localErrors(form: BotForm): FieldErrors {
  const errors: FieldErrors = {};
  const title = form.title.trim();
  if (!title) errors.title = "Give the bot a title.";
  else if ([...title].length > 120) errors.title = "A title has at most 120 characters.";
  const numbers: Array<[keyof BotForm, string]> = [
    ["maxOutputTokens", "maxOutputTokens"],
    ["memoryMaxMessages", "memory.maxMessages"],
    ["memoryMaxTokens", "memory.maxTokens"],
    ["dailyMessages", "limits.dailyMessages"],
    ["guestMessagesPerSession", "limits.guestMessagesPerSession"],
  ];
  for (const [key, field] of numbers) {
    const text = String(form[key]).trim();
    if (text !== "" && !/^\d+$/.test(text)) errors[field] = "Enter a whole number, or leave it empty.";
  }
  return errors;
}

/** Messages per API field (`title`, `memory.maxMessages`, …); `form` for the rest. */
export type FieldErrors = Record<string, string>;

/** Where the API's refusal belongs: at its field when it names one the form has. */
export function fieldErrorsFrom(error: unknown): FieldErrors {
  if (error instanceof ApiProblem && error.code === "validation_failed" && error.field) {
    if (FIELDS.has(error.field)) return { [error.field]: sentence(error.detail) };
  }
  return { form: describeProblem(error) };
}

const FIELDS = new Set([
  "title",
  "description",
  "greeting",
  "systemPrompt",
  "model",
  "temperature",
  "maxOutputTokens",
  "sessionOverrides.models",
  "memory.maxMessages",
  "memory.maxTokens",
  "limits.dailyMessages",
  "limits.guestMessagesPerSession",
]);

/** "title must not be empty" → "Must not be empty." */
function sentence(detail: string): string {
  const text =
    detail.replace(/^[\w.]+:?\s+(?=must|is|contains|should)/, "").trim() || "Please check this value.";
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** Why a model cannot be picked, or null when it can. */
export function modelUnavailable(model: ModelView): string | null {
  return model.configured ? null : `${model.provider} is not set up on this server (no API key)`;
}

export const PERSONA_KINDS: Array<{
  kind: PersonaKind;
  label: string;
  hint: string;
  accept: string;
  contentType: string;
}> = [
  {
    kind: "facts",
    label: "Facts",
    hint: "A JSON file of facts about the persona.",
    accept: "application/json,.json",
    contentType: "application/json",
  },
  {
    kind: "summary",
    label: "Summary",
    hint: "A plain-text summary of who the persona is.",
    accept: "text/plain,.txt,.md",
    contentType: "text/plain; charset=utf-8",
  },
  {
    kind: "style",
    label: "Style",
    hint: "Plain text on how the persona writes.",
    accept: "text/plain,.txt,.md",
    contentType: "text/plain; charset=utf-8",
  },
  {
    kind: "profile",
    label: "Profile",
    hint: "A PDF (a CV or profile); its text is extracted.",
    accept: "application/pdf,.pdf",
    contentType: "application/pdf",
  },
];

export const SHARING_LABELS: Record<SharingMode, string> = {
  private: "Only me",
  signed_in: "Signed-in people with the link",
  anyone: "Anyone with the link",
};

/** The `If-Match` value for a bot's version, as its ETag names it. */
export function ifMatch(version: number): string {
  return `"v${version}"`;
}

/** A persona document's content as text: facts (JSON) pretty-printed, the rest as is. */
export function personaText(content: unknown): string {
  if (typeof content === "string") return content;
  if (content === undefined || content === null) return "";
  return JSON.stringify(content, null, 2);
}
