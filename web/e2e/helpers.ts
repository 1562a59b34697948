import AxeBuilder from "@axe-core/playwright";
import { type APIRequestContext, expect, type Page } from "@playwright/test";

export interface Bot {
  chatConfigId: string;
  shareCode: string;
  shareableUrl: string;
  title: string;
}

/** A token from the development sign-in, for setting things up through the API. */
export async function apiSignIn(
  request: APIRequestContext,
  email: string,
  groups?: string[],
): Promise<string> {
  const response = await request.post("/dev/sign-in", { data: groups ? { email, groups } : { email } });
  expect(response.ok()).toBeTruthy();
  return ((await response.json()) as { idToken: string }).idToken;
}

export async function createBot(
  request: APIRequestContext,
  token: string,
  body: Record<string, unknown>,
): Promise<Bot> {
  const response = await request.post("/create-chat", {
    headers: { authorization: `Bearer ${token}` },
    data: { sharing: { mode: "anyone", showPrompt: false }, ...body },
  });
  expect(response.status(), await response.text()).toBe(201);
  return (await response.json()) as Bot;
}

/** Signs in through the page, as a person would. */
export async function uiSignIn(page: Page, email: string, groups = ""): Promise<void> {
  await page.getByLabel("Email").fill(email);
  if (groups) await page.getByLabel(/Groups/).fill(groups);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** The signed-in user's token, as the page keeps it. */
export async function pageToken(page: Page): Promise<string> {
  return page.evaluate(
    () => (JSON.parse(localStorage.getItem("parley.auth") ?? "{}") as { idToken: string }).idToken,
  );
}

/** Screenshots at desktop width and at 390 px, under test-results/screenshots/. */
export async function screenshots(page: Page, name: string): Promise<void> {
  const size = page.viewportSize() ?? { width: 1280, height: 720 };
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: `test-results/screenshots/${name}-desktop.png` });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `test-results/screenshots/${name}-390.png` });
  await page.setViewportSize(size);
}

/** No serious or critical accessibility violations on the page as it is now. */
export async function expectAccessible(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`)).toEqual(
    [],
  );
}

/** The text length of the last bot reply on the page. */
export async function replyLength(page: Page): Promise<number> {
  const text = await page
    .locator('li[data-role="assistant"]')
    .last()
    .textContent()
    .catch(() => "");
  return (text ?? "").length;
}
