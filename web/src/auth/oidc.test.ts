import { describe, expect, it } from "vitest";
import { setConfig } from "../config";
import { userManager } from "./oidc";

describe("Cognito sign-in", () => {
  it("asks for an authorization code with PKCE (S256), back to /auth/callback", async () => {
    setConfig({
      mode: "cloud",
      apiBase: "https://example.cloudfront.net/api",
      streamBase: "https://example.cloudfront.net/stream",
      cognito: {
        domain: "parley.auth.eu-west-1.amazoncognito.com",
        clientId: "client123",
        region: "eu-west-1",
      },
    });
    const um = await userManager();
    expect(um.settings.response_type).toBe("code");
    expect(um.settings.automaticSilentRenew).toBe(false); // ours, see scheduleRenewal
    // The URL the browser is sent to, without sending it.
    // biome-ignore lint/complexity/useLiteralKeys: the client is internal to UserManager
    const request = await um["_client"].createSigninRequest({ request_type: "si:r" });
    const url = new URL(request.url);
    expect(url.origin + url.pathname).toBe(
      "https://parley.auth.eu-west-1.amazoncognito.com/oauth2/authorize",
    );
    expect(url.searchParams.get("response_type")).toBe("code");
    expect(url.searchParams.get("client_id")).toBe("client123");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get("redirect_uri")).toBe(`${window.location.origin}/auth/callback`);
  });
});
