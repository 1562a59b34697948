import { readFile } from "node:fs/promises";
import { type Browser, expect, type Page, test } from "@playwright/test";
import {
  apiSignIn,
  type Bot,
  createBot,
  expectAccessible,
  pageToken,
  replyLength,
  screenshots,
  uiSignIn,
} from "./helpers";

// The journeys build on each other: alice's bot, the guest's chat on it, then the link
// rotated and the bot suspended.
test.describe.configure({ mode: "serial" });

let bot: Bot;
let aliceToken: string;
let guestChat: string;

/** Console errors of every page, CSP violations among them: none may happen. */
const consoleErrors: string[] = [];

function watch(page: Page): Page {
  page.on("console", (m) => {
    // A refused request (404, 429) is logged by the browser itself; that is the API talking.
    if (m.type() === "error" && !/Failed to load resource/.test(m.text())) consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  return page;
}

test.beforeEach(({ page }) => {
  watch(page);
});

test.afterAll(() => {
  expect(consoleErrors).toEqual([]);
});

/** A fresh browser profile: a second person on another device. */
async function person(browser: Browser): Promise<Page> {
  const context = await browser.newContext();
  return watch(await context.newPage());
}

const LONG = Array.from({ length: 50 }, (_, i) => `word${i}`).join(" ");

test("alice signs in, gets a bot and copies its share link", async ({ page, context, baseURL }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Welcome to Parley" })).toBeVisible();
  await expectAccessible(page);
  await screenshots(page, "home");

  await page.getByRole("link", { name: "Sign in" }).first().click();
  await expect(page.getByText("Local development sign-in.")).toBeVisible();
  await expectAccessible(page);
  await screenshots(page, "sign-in");
  await uiSignIn(page, "alice@example.com");
  await expect(page).toHaveURL(/\/bots$/);
  await expect(page.getByRole("navigation", { name: "Main" }).getByText("alice@example.com")).toBeVisible();

  // The bot editor is another page's work: the bot is made through the API.
  aliceToken = await pageToken(page);
  bot = await createBot(page.request, aliceToken, {
    title: "Captain Parley",
    description: "A pirate who answers every question in pirate speak.",
    greeting: "Ahoy! Ask me anything about the **seven seas**.",
    systemPrompt: "Talk like a pirate.",
  });
  expect(bot.shareableUrl).toBe(`${baseURL}/s/${bot.shareCode}`);

  await page.goto(`/s/${bot.shareCode}`);
  await expect(page.getByRole("heading", { name: "Captain Parley" })).toBeVisible();
  await page.getByRole("button", { name: "Copy link" }).click();
  await expect(page.getByText("Link copied")).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(bot.shareableUrl);
});

test("a guest opens the link, chats, watches the reply stream, reloads mid-reply and sees it finish", async ({
  browser,
}) => {
  const page = await person(browser);
  await page.goto(bot.shareableUrl);
  await expect(page.getByRole("heading", { name: "Captain Parley" })).toBeVisible();
  await expect(page.getByText("A pirate who answers")).toBeVisible();
  await expect(page.getByText("No account needed")).toBeVisible();
  await expectAccessible(page);
  await screenshots(page, "share");

  await page.getByRole("button", { name: "Start chatting" }).click();
  await expect(page).toHaveURL(/\/chat\/[^/]+$/);
  guestChat = page.url().split("/chat/")[1] ?? "";
  // The greeting is the empty state, its Markdown rendered.
  await expect(page.getByText("seven seas")).toHaveJSProperty("tagName", "STRONG");
  await expectAccessible(page);
  await screenshots(page, "chat-empty");

  const composer = page.getByRole("textbox", { name: "Message" });
  await composer.fill(`Tell me a story about ${LONG}`);
  await composer.press("Enter");
  await expect(page.getByRole("button", { name: "Stop the reply" })).toBeVisible();

  // The reply grows on screen: a length seen, then a longer one.
  await expect.poll(() => replyLength(page)).toBeGreaterThan(20);
  const first = await replyLength(page);
  await expect.poll(() => replyLength(page)).toBeGreaterThan(first);
  await expect(page.locator('li[data-role="assistant"] [data-status="streaming"]')).toHaveCount(1);

  // A reload in the middle picks the reply up where the history has it, to its end.
  await page.reload();
  const reply = page.locator('li[data-role="assistant"]').last();
  await expect(reply.locator("[data-status]")).toHaveAttribute("data-status", "complete", {
    timeout: 20_000,
  });
  const text = (await reply.textContent()) ?? "";
  expect(text).toContain("[offline model]");
  expect(text.split("[offline model]").length).toBe(2); // no text twice
  expect(text).toMatch(/temperature \d\.\d\.$/); // the reply to its last word
  await expect(page.getByRole("button", { name: "Send" })).toBeVisible();
  await expectAccessible(page);
  await screenshots(page, "chat");
  await page.emulateMedia({ colorScheme: "dark" });
  await expectAccessible(page);
  await page.screenshot({ path: "test-results/screenshots/chat-dark-desktop.png" });
  await page.emulateMedia({ colorScheme: "light" });

  // Scrolled up on a phone, the reader gets a way back to the newest message.
  await page.setViewportSize({ width: 390, height: 600 });
  const conversation = page.getByRole("list", { name: "Conversation" }).locator("xpath=../..");
  await conversation.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
  await expect(page.getByRole("button", { name: "Jump to latest" })).toHaveCount(0);
  await conversation.evaluate((el) => el.scrollTo({ top: 0 }));
  await page.getByRole("button", { name: "Jump to latest" }).click();
  await expect(page.getByRole("button", { name: "Jump to latest" })).toHaveCount(0);
  await expect
    .poll(() => conversation.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight))
    .toBeLessThan(64);
  await page.setViewportSize({ width: 1280, height: 720 });

  // The guest keeps the session on this browser: the share page offers it back.
  await page.goto(bot.shareableUrl);
  await page.getByRole("link", { name: "Continue your chat" }).click();
  await expect(page).toHaveURL(new RegExp(`/chat/${guestChat}$`));
  await expect(page.locator('li[data-role="user"]')).toHaveCount(1);
  await page.context().close();
});

test("bob signs in through the link and finds the chat in My chats", async ({ browser }) => {
  const page = await person(browser);
  await page.goto(bot.shareableUrl);
  await page.getByRole("link", { name: "Sign in" }).last().click();
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await uiSignIn(page, "bob@example.com");
  await expect(page).toHaveURL(new RegExp(`/s/${bot.shareCode}$`));
  await expect(page.getByText("Chatting as bob@example.com.")).toBeVisible();
  await page.getByRole("button", { name: "Start chatting" }).click();
  await expect(page).toHaveURL(/\/chat\//);
  await page.getByRole("textbox", { name: "Message" }).fill("Hello from bob");
  await page.getByRole("button", { name: "Send" }).click();
  await expect(page.locator('li[data-role="assistant"] [data-status="complete"]')).toHaveCount(1, {
    timeout: 20_000,
  });
  await expect(page.locator('li[data-role="assistant"]')).toContainText("Hello from bob");

  // Stop: Send turns into Stop while the reply streams; a stopped reply keeps its text.
  const composer = page.getByRole("textbox", { name: "Message" });
  await composer.fill(`Please go on about ${LONG}`);
  await composer.press("Enter");
  await expect.poll(() => replyLength(page)).toBeGreaterThan(10);
  await page.getByRole("button", { name: "Stop the reply" }).click();
  const stopped = page.locator('li[data-role="assistant"]').last();
  await expect(stopped.locator("[data-status]")).toHaveAttribute("data-status", "stopped");
  await expect(stopped).toContainText("Stopped.");
  expect((await stopped.textContent()) ?? "").not.toContain("temperature");

  // Rename, then export: the download carries the new title and the conversation.
  await page.getByRole("button", { name: "Chat options" }).click();
  await page.getByRole("menuitem", { name: "Rename" }).click();
  await page.getByRole("dialog", { name: "Rename chat" }).getByLabel("Title").fill("Bob at sea");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("heading", { name: "Bob at sea" })).toBeVisible();
  await page.getByRole("button", { name: "Chat options" }).click();
  const download = page.waitForEvent("download");
  await page.getByRole("menuitem", { name: "Export as Markdown" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe("bob-at-sea.md");
  const markdown = await readFile((await file.path()) ?? "", "utf8");
  expect(markdown).toContain("# Bob at sea");
  expect(markdown).toContain("Hello from bob");
  await page.getByRole("button", { name: "Chat options" }).click();
  const json = page.waitForEvent("download");
  await page.getByRole("menuitem", { name: "Export as JSON" }).click();
  const exported = JSON.parse(await readFile((await (await json).path()) ?? "", "utf8")) as {
    messages: Array<{ status: string }>;
  };
  expect(exported.messages.map((m) => m.status)).toEqual(["complete", "complete", "complete", "stopped"]);

  await page.getByRole("link", { name: "My chats" }).click();
  await expect(page.getByRole("heading", { name: "My chats" })).toBeVisible();
  await expect(page.getByRole("link", { name: /Bob at sea/ })).toHaveCount(1);
  await expectAccessible(page);
  await screenshots(page, "my-chats");

  // Under 768 px the sidebar is a drawer.
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(page.getByRole("navigation", { name: "Main" })).toBeHidden();
  await page.getByRole("button", { name: "Open menu" }).click();
  await expect(
    page.getByRole("dialog", { name: "Menu" }).getByRole("link", { name: "My bots" }),
  ).toBeVisible();
  await expectAccessible(page);
  await page.screenshot({ path: "test-results/screenshots/drawer-390.png" });
  await page.getByRole("dialog", { name: "Menu" }).getByRole("link", { name: "My bots" }).click();
  await expect(page).toHaveURL(/\/bots$/);
  await expect(page.getByRole("dialog", { name: "Menu" })).toHaveCount(0);

  // Delete, from the chat: it leaves My chats.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto("/chats");
  await page.getByRole("link", { name: /Bob at sea/ }).click();
  await page.getByRole("button", { name: "Chat options" }).click();
  await page.getByRole("menuitem", { name: "Delete chat" }).click();
  await page
    .getByRole("dialog", { name: "Delete this chat?" })
    .getByRole("button", { name: "Delete" })
    .click();
  await expect(page).toHaveURL(/\/chats$/);
  await expect(page.getByText("No chats yet")).toBeVisible();
  await page.context().close();
});

test("alice rotates the link: the old link shows not found", async ({ browser, request }) => {
  const old = bot.shareableUrl;
  const rotated = await request.post(`/chat-config/${bot.chatConfigId}/share-link`, {
    headers: { authorization: `Bearer ${aliceToken}` },
  });
  expect(rotated.ok()).toBeTruthy();
  const link = (await rotated.json()) as { shareCode: string; shareableUrl: string };
  bot = { ...bot, ...link };

  const page = await person(browser);
  await page.goto(old);
  await expect(page.getByRole("heading", { name: "This link was not found" })).toBeVisible();
  await expectAccessible(page);
  await screenshots(page, "share-not-found");
  await page.context().close();
});

test("an admin suspends the bot: the guest sees it suspended", async ({ browser, request }) => {
  const page = await person(browser);
  await page.goto(bot.shareableUrl);
  await page.getByRole("button", { name: "Start chatting" }).click();
  await expect(page).toHaveURL(/\/chat\//);

  const admin = await apiSignIn(request, "root@example.com", ["admin"]);
  const suspended = await request.post(`/chat-config/${bot.chatConfigId}/suspend`, {
    headers: { authorization: `Bearer ${admin}` },
  });
  expect(suspended.ok(), await suspended.text()).toBeTruthy();

  await page.getByRole("textbox", { name: "Message" }).fill("Are you there?");
  await page.getByRole("textbox", { name: "Message" }).press("Enter");
  await expect(page.getByRole("alert")).toContainText("suspended by an administrator");
  await expect(page.getByRole("button", { name: "Retry" })).toBeVisible();
  await expectAccessible(page);
  await screenshots(page, "chat-suspended");

  // Offline: the browser's word, and a send that fails says so, with Retry.
  await page.context().setOffline(true);
  await expect(page.getByText("You are offline.")).toBeVisible();
  await page.getByRole("textbox", { name: "Message" }).fill("Hello?");
  await page.getByRole("textbox", { name: "Message" }).press("Enter");
  await expect(page.getByText("You seem to be offline. Check your connection and try again.")).toBeVisible();
  await page.context().setOffline(false);
  await expect(page.getByText("You are offline.")).toHaveCount(0);
  await page.context().close();
});

test("a guest who used their allowance is told so, in words", async ({ browser, request }) => {
  const token = await apiSignIn(request, "alice@example.com");
  const small = await createBot(request, token, {
    title: "One question",
    greeting: "You may ask one question.",
    limits: { guestMessagesPerSession: 1 },
  });
  const page = await person(browser);
  await page.goto(small.shareableUrl);
  await page.getByRole("button", { name: "Start chatting" }).click();
  const composer = page.getByRole("textbox", { name: "Message" });
  await composer.fill("First question");
  await composer.press("Enter");
  await expect(page.locator('li[data-role="assistant"] [data-status="complete"]')).toHaveCount(1, {
    timeout: 20_000,
  });
  await composer.fill("Second question");
  await composer.press("Enter");
  await expect(
    page.getByText("You have used all the messages a guest gets in this chat.").first(),
  ).toBeVisible();
  await expect(page.getByText("0 guest messages left.")).toBeVisible();
  await expect(page.getByText("quota_exceeded")).toHaveCount(0);
  await expectAccessible(page);
  await screenshots(page, "chat-quota");
  await page.context().close();
});
