import { describe, expect, it } from "vitest";
import { ApiProblem } from "../../api/problem";
import type { BotView } from "../../api/types";
import {
  emptyForm,
  fieldErrorsFrom,
  formFromBot,
  ifMatch,
  localErrors,
  modelUnavailable,
  personaText,
  requestFromForm,
} from "./form";

const bot: BotView = {
  chatConfigId: "b1",
  createdAt: "2026-01-01T00:00:00Z",
  updatedAt: "2026-01-01T00:00:00Z",
  description: "d",
  greeting: "g",
  systemPrompt: "p",
  title: "T",
  model: "gpt-4o",
  temperature: 1.2,
  maxOutputTokens: 512,
  limits: { dailyMessages: 100, guestMessagesPerSession: 5 },
  memory: { maxMessages: 20, maxTokens: 4000 },
  ownerId: "u1",
  sessionOverrides: { models: ["gpt-4o", "parley-offline"], systemPrompt: true, temperature: false },
  shareCode: "c",
  shareableUrl: "http://x/s/c",
  sharing: { mode: "signed_in", showPrompt: true },
  suspended: false,
  version: 3,
};

describe("bot form", () => {
  it("round-trips every field of a stored bot into the request that keeps it", () => {
    const request = requestFromForm(formFromBot(bot));
    expect(request).toEqual({
      title: "T",
      description: "d",
      greeting: "g",
      systemPrompt: "p",
      model: "gpt-4o",
      temperature: 1.2,
      maxOutputTokens: 512,
      sharing: { mode: "signed_in", showPrompt: true },
      // The bot's own model is no "other" model.
      sessionOverrides: { temperature: false, systemPrompt: true, models: ["parley-offline"] },
      memory: { maxMessages: 20, maxTokens: 4000 },
      limits: { dailyMessages: 100, guestMessagesPerSession: 5 },
    });
  });

  it("sends empty number boxes as null, so the API keeps its defaults", () => {
    const request = requestFromForm({ ...emptyForm("parley-offline"), title: " Pirate " });
    expect(request.title).toBe("Pirate");
    expect(request.model).toBe("parley-offline");
    expect(request.maxOutputTokens).toBeNull();
    expect(request.memory).toEqual({ maxMessages: null, maxTokens: null });
    expect(request.limits).toEqual({ dailyMessages: null, guestMessagesPerSession: null });
  });

  it("never asks for prompt overrides while the prompt is hidden", () => {
    const form = { ...formFromBot(bot), showPrompt: false, overrideSystemPrompt: true };
    expect(requestFromForm(form).sessionOverrides?.systemPrompt).toBe(false);
  });

  it("names the version it was read at when asked", () => {
    expect(requestFromForm(formFromBot(bot), 3).version).toBe(3);
    expect(ifMatch(3)).toBe('"v3"');
  });

  it("catches an empty title and words in number boxes before sending", () => {
    const errors = localErrors({
      ...emptyForm("m"),
      title: "  ",
      dailyMessages: "ten",
      memoryMaxTokens: "12",
    });
    expect(errors).toEqual({
      title: "Give the bot a title.",
      "limits.dailyMessages": "Enter a whole number, or leave it empty.",
    });
  });

  it("puts the API's refusal at the field it names", () => {
    const problem = new ApiProblem({
      status: 400,
      code: "validation_failed",
      field: "limits.dailyMessages",
      detail: "limits.dailyMessages must be from 1 to 500",
    });
    expect(fieldErrorsFrom(problem)).toEqual({ "limits.dailyMessages": "Must be from 1 to 500." });
  });

  it("shows refusals without a known field as one sentence for the form", () => {
    const unknown = new ApiProblem({ status: 400, code: "validation_failed", field: "nope", detail: "bad" });
    expect(fieldErrorsFrom(unknown)).toEqual({ form: "Please check your input: bad" });
    const gone = new ApiProblem({ status: 404, code: "not_found" });
    expect(fieldErrorsFrom(gone).form).toMatch(/not found/);
  });

  it("says why a model cannot be picked", () => {
    expect(modelUnavailable({ id: "gpt-4o", provider: "openai", configured: false })).toMatch(
      /openai is not set up/,
    );
    expect(modelUnavailable({ id: "parley-offline", provider: "offline", configured: true })).toBeNull();
  });

  it("shows facts as indented JSON and other documents as their text", () => {
    expect(personaText({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(personaText("Ada")).toBe("Ada");
  });
});
