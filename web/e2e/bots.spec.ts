import { resolve } from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { expectAccessible, screenshots, uiSignIn } from "./helpers";

// Carol makes a bot through the editor, gives it a persona, shares it, meets a stale
// edit, rotates the link, chats with it and deletes it.
test.describe.configure({ mode: "serial" });

const samples = resolve("..", "samples", "digital-twin");
let botUrl = "";

const consoleErrors: string[] = [];
test.beforeEach(({ page }) => {
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource/.test(m.text())) consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
});
test.afterAll(() => {
  expect(consoleErrors).toEqual([]);
});

/** Uploads a sample through its button; `keyboard` presses Enter on it instead of clicking. */
async function upload(page: Page, button: string, file: string, keyboard = false): Promise<void> {
  const chooser = page.waitForEvent("filechooser");
  const target = page.getByRole("button", { name: button });
  if (keyboard) {
    await target.focus();
    await page.keyboard.press("Enter");
  } else {
    await target.click();
  }
  await (await chooser).setFiles(resolve(samples, file));
}

test("carol creates a bot in the editor, with field errors, a persona and its link copied", async ({
  page,
  context,
}) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.goto("/sign-in");
  await uiSignIn(page, "carol@example.com");
  await expect(page).toHaveURL(/\/bots$/);
  await expect(page.getByText("No bots yet")).toBeVisible();
  await expectAccessible(page);
  await screenshots(page, "bots-empty");

  await page.getByRole("link", { name: "New bot" }).click();
  await expect(page.getByRole("heading", { name: "New bot" })).toBeVisible();
  // Models whose provider has no key are listed, but cannot be picked.
  await expect(page.getByRole("option", { name: /gpt-4o-mini.*unavailable/ })).toBeDisabled();

  // GIVEN no title WHEN creating THEN the title says what is missing, and has the focus.
  await page.getByRole("button", { name: "Create bot" }).click();
  await expect(page.getByLabel("Title", { exact: true })).toBeFocused();
  await expect(page.getByText("Give the bot a title.")).toBeVisible();

  await page.getByLabel("Title", { exact: true }).fill("Ada's twin");
  await page.getByLabel("Description", { exact: true }).fill("Answers as Ada Park would.");
  await page.getByLabel("System prompt", { exact: true }).fill("You are Ada Park.");
  await page.getByLabel(/^Temperature/).fill("1.3");
  await expect(page.getByText("Temperature: 1.3")).toBeVisible();
  // A limit the API refuses: its sentence shows at that field.
  await page.getByLabel("Messages per day").fill("99999999");
  await page.getByRole("button", { name: "Create bot" }).click();
  const daily = page.getByLabel("Messages per day");
  await expect(daily).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("[id='limits.dailyMessages-error']")).toHaveText(/^Must be from 1 to \d+\.$/);
  await daily.fill("");
  await page.getByRole("button", { name: "Create bot" }).click();
  await expect(page).toHaveURL(/\/bots\/(?!new$)[^/]+$/);
  botUrl = new URL(page.url()).pathname;
  await expect(page.getByRole("heading", { name: "Ada's twin" })).toBeVisible();
  await expect(page.getByLabel(/^Temperature/)).toHaveValue("1.3");

  // The share link, copied.
  const link = await page.getByLabel("Share link").inputValue();
  expect(link).toMatch(/\/s\/[\w-]+$/);
  await page.getByRole("button", { name: "Copy link" }).click();
  await expect(page.getByText("Link copied")).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);

  // Persona: facts (JSON) and a profile (PDF), each with its text and token estimate.
  await upload(page, "Upload facts", "facts.json");
  await expect(page.getByTestId("persona-facts-status")).toHaveText(/^About \d+ tokens/);
  await page.getByRole("button", { name: "Show text of facts" }).click();
  await expect(page.getByRole("region", { name: "Facts text" })).toContainText('"name": "Ada Park"');
  await upload(page, "Upload profile", "profile.pdf", true);
  await expect(page.getByTestId("persona-profile-status")).toHaveText(/tokens .* from a 1\.\d kB PDF/);
  await page.getByRole("button", { name: "Show text of profile" }).click();
  await expect(page.getByRole("region", { name: "Profile text" })).toContainText("Ada Park");
  await expect(page.getByText(/about \d+ tokens in all/)).toBeVisible();
  // A file of the wrong kind is refused in words, at its document.
  await upload(page, "Upload summary", "profile.pdf");
  await expect(page.locator('li[data-kind="summary"] [role="alert"]')).toBeVisible();
  await expect(page.getByTestId("persona-summary-status")).toHaveText("Not uploaded");
  await expectAccessible(page);
  await page.getByRole("heading", { name: "Ada's twin" }).scrollIntoViewIfNeeded();
  await screenshots(page, "bot-editor");
  await page.getByRole("heading", { name: "Persona" }).scrollIntoViewIfNeeded();
  await screenshots(page, "bot-editor-persona");
  // The page in the dark scheme (the upload toasts, the shared Toaster's, gone first).
  await expect(page.locator("[data-sonner-toast]")).toHaveCount(0);
  await page.emulateMedia({ colorScheme: "dark" });
  await expectAccessible(page);
  await page.screenshot({ path: "test-results/screenshots/bot-editor-dark-desktop.png" });
  await page.emulateMedia({ colorScheme: "light" });

  await page.getByRole("link", { name: "My bots" }).first().click();
  const row = page.getByRole("link", { name: /Ada's twin/ });
  await expect(row).toContainText("parley-offline · Anyone with the link");
  await expect(row).toContainText(/0 tokens today/);
  await expectAccessible(page);
  await screenshots(page, "bots");
});

test("a stale edit says someone else changed the bot and offers a reload", async ({ page, context }) => {
  await page.goto("/sign-in");
  await uiSignIn(page, "carol@example.com");
  await expect(page).toHaveURL(/\/bots$/);
  await page.goto(botUrl);
  await expect(page.getByLabel("Title", { exact: true })).toHaveValue("Ada's twin");

  // The same bot changed in another tab meanwhile.
  const other = await context.newPage();
  await other.goto(botUrl);
  await other.getByLabel("Description", { exact: true }).fill("Changed in the other tab.");
  await other.getByRole("button", { name: "Save changes" }).click();
  await expect(other.getByText("Saved")).toBeVisible();
  await other.close();

  await page.getByLabel("Title", { exact: true }).fill("Ada's stale twin");
  await page.getByRole("button", { name: "Save changes" }).click();
  const alert = page.getByRole("alert").filter({ hasText: "Someone else changed this bot" });
  await expect(alert).toBeVisible();
  await expectAccessible(page);
  await screenshots(page, "bot-editor-stale");
  await alert.getByRole("button", { name: "Reload" }).click();
  await expect(alert).toBeHidden();
  await expect(page.getByLabel("Description", { exact: true })).toHaveValue("Changed in the other tab.");
  await expect(page.getByLabel("Title", { exact: true })).toHaveValue("Ada's twin");
});

test("carol rotates the link, stops sharing, chats with her bot and deletes it", async ({ page }) => {
  await page.goto("/sign-in");
  await uiSignIn(page, "carol@example.com");
  await expect(page).toHaveURL(/\/bots$/);
  await page.goto(botUrl);
  const before = await page.getByLabel("Share link").inputValue();
  await page.getByRole("button", { name: "New link" }).click();
  const dialog = page.getByRole("dialog", { name: "Make a new link?" });
  await expect(dialog).toContainText("stops working");
  await dialog.getByRole("button", { name: "Make a new link" }).click();
  await expect(page.getByLabel("Share link")).not.toHaveValue(before);
  // The old link no longer opens the bot.
  const old = await page.request.get(`/share/${before.split("/s/")[1]}`);
  expect(old.status()).toBe(404);

  await page.getByRole("button", { name: "Stop sharing" }).click();
  await page
    .getByRole("dialog", { name: "Stop sharing?" })
    .getByRole("button", { name: "Stop sharing" })
    .click();
  await expect(page.getByText("Sharing is off: only you can chat with this bot.").first()).toBeVisible();
  await expect(page.getByLabel("Only me")).toBeChecked();

  await page.getByRole("button", { name: "Start a chat" }).click();
  await expect(page).toHaveURL(/\/chat\/[^/]+$/);
  await expect(page.getByRole("heading", { name: "Ada's twin" })).toBeVisible();

  await page.goto(botUrl);
  // A persona document deleted, after a confirmation.
  await page.getByRole("button", { name: "Delete facts" }).click();
  await page
    .getByRole("dialog", { name: "Delete the facts?" })
    .getByRole("button", { name: "Delete" })
    .click();
  await expect(page.getByTestId("persona-facts-status")).toHaveText("Not uploaded");
  await expect(page.getByTestId("persona-profile-status")).toHaveText(/^About \d+ tokens/);

  await page.getByRole("button", { name: "Delete bot" }).click();
  await page
    .getByRole("dialog", { name: /Delete Ada's twin/ })
    .getByRole("button", { name: "Delete" })
    .click();
  await expect(page).toHaveURL(/\/bots$/);
  await expect(page.getByText("No bots yet")).toBeVisible();
});
