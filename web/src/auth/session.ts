import { api } from "../api/client";
import type { SignedIn } from "../api/types";
import { config } from "../config";
import { identity, saveTokens } from "./store";

/** Signs in with the local server's development sign-in (local mode only). */
export async function devSignIn(email: string, groups: string[]): Promise<void> {
  const signed = await api<SignedIn>("/dev/sign-in", {
    method: "POST",
    body: groups.length > 0 ? { email, groups } : { email },
    token: null,
  });
  const who = identity(signed.idToken);
  saveTokens({
    idToken: signed.idToken,
    accessToken: signed.accessToken,
    expiresAt: Date.now() + signed.expiresIn * 1000,
    email: who.email || email,
    groups: who.groups.length > 0 ? who.groups : groups,
  });
}

export async function signOut(): Promise<void> {
  if (config().mode === "cloud") {
    const { cloudSignOut } = await import("./oidc");
    await cloudSignOut();
    return;
  }
  saveTokens(null);
  window.location.assign("/");
}
