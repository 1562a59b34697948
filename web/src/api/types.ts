import type { components } from "./schema";

type S = components["schemas"];
export type PublicBot = S["PublicBot"];
export type SessionView = S["SessionView"];
export type StartedSession = S["StartedSession"];
export type MessageView = S["MessageView"];
export type MessageStatus = S["MessageStatus"];
export type History = S["History"];
export type SessionList = S["SessionList"];
export type Sent = S["Sent"];
export type SignedIn = S["SignedIn"];
export type BotView = S["BotView"];
export type BotList = S["BotList"];
export type ModelsList = S["Models"];
export type ModelView = S["ModelView"];
export type Problem = S["Problem"];
export type SessionChanges = S["SessionChangesRequest"];
