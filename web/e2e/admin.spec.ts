import { expect, test } from "@playwright/test";
import { apiSignIn, createBot, expectAccessible, screenshots, uiSignIn } from "./helpers";

test("an admin suspends a bot from the admin page, and unsuspends it", async ({ page, request, browser }) => {
  const owner = await apiSignIn(request, "dave@example.com");
  const bot = await createBot(request, owner, { title: "Dave's helper" });

  // Not for everyone: a person without the admin group is told so.
  await page.goto("/sign-in");
  await uiSignIn(page, "dave@example.com");
  await expect(page).toHaveURL(/\/bots$/);
  await page.goto("/admin");
  await expect(page.getByRole("heading", { name: "Admins only" })).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();

  await page.goto("/sign-in");
  await uiSignIn(page, "root@example.com", "admin");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).click();
  await expect(page.getByRole("heading", { name: "Admin" })).toBeVisible();
  const row = page.locator(`tr[data-bot="${bot.chatConfigId}"]`);
  await expect(row).toContainText("Dave's helper");
  await expect(row).toContainText(/0 msgs/);
  await expectAccessible(page);
  await screenshots(page, "admin");

  await row.getByRole("button", { name: "Suspend Dave's helper" }).click();
  await page
    .getByRole("dialog", { name: "Suspend Dave's helper?" })
    .getByRole("button", { name: "Suspend" })
    .click();
  await expect(row.getByText("Suspended")).toBeVisible();
  // The bot is suspended for everyone: its share link cannot start a chat.
  const start = await request.post("/chat-session", { data: { shareCode: bot.shareCode } });
  expect((await start.json()).code).toBe("bot_suspended");
  // The confirmation toast gone first (see the note on toast contrast in bots.spec.ts).
  await expect(page.locator("[data-sonner-toast]")).toHaveCount(0, { timeout: 10_000 });
  await expectAccessible(page);
  // Its owner sees it marked in My bots.
  const dave = await (await browser.newContext()).newPage();
  await dave.goto("/sign-in");
  await uiSignIn(dave, "dave@example.com");
  await expect(dave.getByRole("link", { name: /Dave's helper/ }).getByText("Suspended")).toBeVisible();
  await dave.context().close();

  await row.getByRole("button", { name: "Unsuspend Dave's helper" }).click();
  await expect(row.getByText("Suspended")).toBeHidden();
  const again = await request.post("/chat-session", { data: { shareCode: bot.shareCode } });
  expect(again.status()).toBe(201);
});
