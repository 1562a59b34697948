import { api, url } from "../../api/client";
import { OFFLINE, problemFrom } from "../../api/problem";
import type { components } from "../../api/schema";
import type { BotView } from "../../api/types";
import { loadTokens } from "../../auth/store";
import { type BotRequest, ifMatch, type PersonaKind } from "./form";

export type PersonaInfo = components["schemas"]["PersonaInfoView"];
export type PersonaList = components["schemas"]["PersonaList"];
export type PersonaView = components["schemas"]["PersonaView"];
export type ShareLink = components["schemas"]["ShareLinkView"];

const path = (id: string) => `/chat-config/${encodeURIComponent(id)}`;

export function getBot(id: string): Promise<BotView> {
  return api<BotView>(path(id));
}

export function createBot(request: BotRequest): Promise<BotView> {
  return api<BotView>("/create-chat", { method: "POST", body: request });
}

/** Saves `request` over the bot as it was at `version`; a later change answers 412. */
export function updateBot(id: string, version: number, request: BotRequest): Promise<BotView> {
  return api<BotView>(path(id), {
    method: "PUT",
    body: request,
    headers: { "if-match": ifMatch(version) },
  });
}

export function deleteBot(id: string): Promise<void> {
  return api<void>(path(id), { method: "DELETE" });
}

export function rotateShareLink(id: string): Promise<ShareLink> {
  return api<ShareLink>(`${path(id)}/share-link`, { method: "POST" });
}

export function listPersona(id: string): Promise<PersonaList> {
  return api<PersonaList>(`${path(id)}/persona`);
}

export function getPersona(id: string, kind: PersonaKind): Promise<PersonaView> {
  return api<PersonaView>(`${path(id)}/persona/${kind}`);
}

export function deletePersona(id: string, kind: PersonaKind): Promise<void> {
  return api<void>(`${path(id)}/persona/${kind}`, { method: "DELETE" });
}

/** Uploads a persona document as it is (JSON, text or PDF), with its own content type. */
export async function putPersona(
  id: string,
  kind: PersonaKind,
  body: Blob,
  contentType: string,
): Promise<PersonaInfo> {
  const headers: Record<string, string> = { accept: "application/json", "content-type": contentType };
  const token = loadTokens()?.idToken;
  if (token) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(url(`${path(id)}/persona/${kind}`), { method: "PUT", headers, body });
  } catch {
    throw OFFLINE;
  }
  if (!response.ok) throw await problemFrom(response);
  return (await response.json()) as PersonaInfo;
}

export function setSuspended(id: string, suspended: boolean): Promise<BotView> {
  return api<BotView>(`${path(id)}/${suspended ? "suspend" : "unsuspend"}`, { method: "POST" });
}
