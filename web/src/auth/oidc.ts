import type { UserManager } from "oidc-client-ts";
import { config } from "../config";
import { identity, renewDelay, saveTokens } from "./store";

/** Cognito managed login (authorization code + PKCE), loaded only in the cloud. */
let manager: Promise<UserManager> | null = null;

export function userManager(): Promise<UserManager> {
  if (!manager) {
    manager = import("oidc-client-ts").then(({ UserManager, WebStorageStateStore }) => {
      const cognito = config().cognito;
      if (!cognito) throw new Error("config.json has no cognito section");
      const origin = window.location.origin;
      const domain = cognito.domain.startsWith("http") ? cognito.domain : `https://${cognito.domain}`;
      return new UserManager({
        authority: domain,
        client_id: cognito.clientId,
        redirect_uri: `${origin}/auth/callback`,
        post_logout_redirect_uri: `${origin}/`,
        response_type: "code",
        scope: "openid email profile",
        // Renewal is ours (scheduleRenewal), so its timing is tested.
        automaticSilentRenew: false,
        userStore: new WebStorageStateStore({ store: window.localStorage }),
        metadata: {
          issuer: `https://cognito-idp.${cognito.region}.amazonaws.com`,
          authorization_endpoint: `${domain}/oauth2/authorize`,
          token_endpoint: `${domain}/oauth2/token`,
          userinfo_endpoint: `${domain}/oauth2/userInfo`,
          end_session_endpoint: `${domain}/logout?client_id=${encodeURIComponent(cognito.clientId)}&logout_uri=${encodeURIComponent(`${origin}/`)}`,
        },
      });
    });
  }
  return manager;
}

function store(user: { id_token?: string; access_token: string; expires_at?: number }): void {
  if (!user.id_token) return;
  const { email, groups } = identity(user.id_token);
  saveTokens({
    idToken: user.id_token,
    accessToken: user.access_token,
    expiresAt: (user.expires_at ?? 0) * 1000,
    email,
    groups,
  });
}

export async function cloudSignIn(returnTo: string): Promise<void> {
  const um = await userManager();
  await um.signinRedirect({ state: { returnTo } });
}

/** Finishes the redirect back from Cognito; answers where to go next. */
export async function cloudCallback(): Promise<string> {
  const um = await userManager();
  const user = await um.signinRedirectCallback();
  store(user);
  const state = user.state as { returnTo?: string } | undefined;
  return state?.returnTo ?? "/";
}

/** Renews with the refresh token a minute before the ID token expires, again and again. */
export function scheduleRenewal(expiresAt: number): () => void {
  const timer = window.setTimeout(
    async () => {
      try {
        const um = await userManager();
        const user = await um.signinSilent();
        if (user) {
          store(user);
          scheduleRenewal((user.expires_at ?? 0) * 1000);
        }
      } catch {
        saveTokens(null);
      }
    },
    renewDelay(expiresAt, Date.now()),
  );
  return () => window.clearTimeout(timer);
}

export async function cloudSignOut(): Promise<void> {
  saveTokens(null);
  const um = await userManager();
  await um.removeUser();
  await um.signoutRedirect();
}
