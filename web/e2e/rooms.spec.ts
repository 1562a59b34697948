import { expect, type Page, test } from "@playwright/test";
import { apiSignIn, createBot, expectAccessible, screenshots, uiSignIn } from "./helpers";

const consoleErrors: string[] = [];
function watch(page: Page): Page {
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource/.test(m.text())) consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  return page;
}
test.afterAll(() => {
  expect(consoleErrors).toEqual([]);
});

const LONG = Array.from({ length: 50 }, (_, i) => `word${i}`).join(" ");

/** The text length of the last bot reply in the room. */
async function lastReply(page: Page): Promise<number> {
  const text = await page
    .locator('li[data-role="assistant"]')
    .last()
    .textContent()
    .catch(() => "");
  return (text ?? "").length;
}

test("erin opens a room on her bot, bob joins by its invite link, @bot answers and messages arrive without reload", async ({
  browser,
}) => {
  const erinContext = await browser.newContext();
  await erinContext.grantPermissions(["clipboard-read", "clipboard-write"]);
  const erin = watch(await erinContext.newPage());
  const bob = watch(await (await browser.newContext()).newPage());

  const token = await apiSignIn(erin.request, "erin@example.com");
  const bot = await createBot(erin.request, token, { title: "Room pirate", sharing: { mode: "signed_in" } });

  await erin.goto("/sign-in");
  await uiSignIn(erin, "erin@example.com");
  await erin.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Rooms" }).click();
  await expect(erin.getByText("No rooms yet")).toBeVisible();
  await expectAccessible(erin);
  await screenshots(erin, "rooms-empty");

  await erin.getByRole("button", { name: "New room" }).click();
  await erin.getByLabel("Room name").fill("Crew deck");
  await expect(erin.getByLabel("One of my bots")).toBeChecked();
  await expect(erin.getByLabel("Bot", { exact: true })).toHaveValue(/.+/);
  await expect(erin.getByLabel("When a message mentions @bot")).toBeChecked();
  await expectAccessible(erin);
  await screenshots(erin, "rooms-new");
  await erin.getByRole("button", { name: "Create room" }).click();
  await expect(erin).toHaveURL(/\/rooms\/[^/]+$/);
  await expect(erin.getByRole("heading", { name: "Crew deck" })).toBeVisible();

  // The invite link, copied, is the join page's address.
  await erin.getByRole("button", { name: "Copy invite link" }).click();
  const invite = await erin.evaluate(() => navigator.clipboard.readText());
  expect(invite).toMatch(/\/join\/[^/]+\/[^/]+$/);
  expect(invite).toBe(await erin.getByLabel("Invite link").inputValue());

  // Bob follows it: signs in, comes back to the invite, joins.
  await bob.goto(invite);
  await expect(bob).toHaveURL(/\/sign-in\?next=/);
  await uiSignIn(bob, "bob@example.com");
  await expect(bob.getByRole("heading", { name: "You are invited to a room" })).toBeVisible();
  await expectAccessible(bob);
  await bob.getByRole("button", { name: "Join the room" }).click();
  await expect(bob.getByRole("heading", { name: "Crew deck" })).toBeVisible();
  await expect(bob.getByRole("list", { name: "Members" })).toContainText("erin");
  await expect(erin.getByRole("list", { name: "Members" })).toContainText("bob", { timeout: 20_000 });

  // Erin writes without @bot: bob sees it arrive, with her name, and the bot stays quiet.
  const erinComposer = erin.getByRole("textbox", { name: "Message" });
  await erinComposer.fill("Ahoy crew, all hands on deck");
  await expect(erin.getByText("The bot stays quiet")).toBeVisible();
  await erinComposer.press("Enter");
  const fromErin = bob.locator('li[data-role="user"]').filter({ hasText: "Ahoy crew" });
  await expect(fromErin).toContainText("erin");

  // Bob asks @bot: its reply grows on erin's screen, then completes for both.
  await bob.getByRole("textbox", { name: "Message" }).fill(`@bot tell us a tale of ${LONG}`);
  await bob.getByRole("button", { name: "Send" }).click();
  await expect(erin.locator('li[data-role="user"]').filter({ hasText: "tell us a tale" })).toContainText(
    "bob",
  );
  await expect.poll(() => lastReply(erin)).toBeGreaterThan(20);
  const seen = await lastReply(erin);
  await expect.poll(() => lastReply(erin)).toBeGreaterThan(seen);
  for (const page of [erin, bob]) {
    await expect(page.locator('li[data-role="assistant"] [data-status="complete"]')).toHaveCount(1, {
      timeout: 20_000,
    });
    await expect(page.locator('li[data-role="assistant"]')).toContainText("[offline model]");
  }
  await expect(erin.locator('li[data-role="assistant"]')).toHaveCount(1);
  await expectAccessible(erin);
  await screenshots(erin, "room");
  await expect(erin.locator("[data-sonner-toast]")).toHaveCount(0);
  await erin.emulateMedia({ colorScheme: "dark" });
  await expectAccessible(erin);
  await erin.screenshot({ path: "test-results/screenshots/room-dark-desktop.png" });
  await erin.emulateMedia({ colorScheme: "light" });

  // Erin removes bob; a new invite link no longer matches the old one.
  await erin.getByRole("button", { name: "Remove bob" }).click();
  await erin.getByRole("dialog", { name: "Remove bob?" }).getByRole("button", { name: "Remove" }).click();
  await expect(erin.getByRole("list", { name: "Members" })).not.toContainText("bob");
  await erin.getByRole("button", { name: "New link" }).click();
  await erin
    .getByRole("dialog", { name: "Make a new invite link?" })
    .getByRole("button", { name: "Make a new link" })
    .click();
  await expect(erin.getByLabel("Invite link")).not.toHaveValue(invite);
  await bob.goto(invite);
  await bob.getByRole("button", { name: "Join the room" }).click();
  await expect(bob.getByText("This invite does not work any more")).toBeVisible();

  // A long room opens at its newest page; older messages come on request.
  const roomPath = new URL(erin.url()).pathname.replace("/rooms/", "/room/");
  for (let i = 0; i < 100; i++) {
    const sent = await erin.request.post(`${roomPath}/messages`, {
      headers: { authorization: `Bearer ${token}` },
      data: { message: `filler ${i}` },
    });
    expect(sent.ok()).toBeTruthy();
  }
  await erin.reload();
  await expect(erin.getByText("filler 99")).toBeVisible();
  await expect(erin.getByText("Ahoy crew")).toHaveCount(0);
  await erin.getByRole("button", { name: "Show older messages" }).click();
  await expect(erin.getByText("Ahoy crew")).toBeVisible();
  await expect(erin.getByRole("button", { name: "Show older messages" })).toHaveCount(0);

  // The room in the list; then deleted.
  await erin.goto("/rooms");
  await expect(erin.getByRole("link", { name: /Crew deck/ })).toContainText("you opened it");
  await expectAccessible(erin);
  await screenshots(erin, "rooms");
  await erin.getByRole("link", { name: /Crew deck/ }).click();
  await erin.getByRole("button", { name: "Delete room" }).click();
  await erin
    .getByRole("dialog", { name: "Delete this room?" })
    .getByRole("button", { name: "Delete" })
    .click();
  await expect(erin).toHaveURL(/\/rooms$/);
  await expect(erin.getByText("No rooms yet")).toBeVisible();

  // Bob, who has no bot of his own, opens a room on erin's by pasting its share link.
  await bob.goto("/rooms");
  await bob.getByRole("button", { name: "New room" }).click();
  await expect(bob.getByLabel(/One of my bots/)).toBeDisabled();
  await bob.getByLabel("Share link or code").fill(bot.shareableUrl);
  await bob.getByLabel("To every message").check();
  await bob.getByRole("button", { name: "Create room" }).click();
  // Unnamed, the room takes the bot's title.
  await expect(bob.getByRole("heading", { name: "Room pirate" })).toBeVisible();
  await expect(bob.getByText("1 member · the bot answers every message")).toBeVisible();
  await expect(bob.getByLabel("Invite link")).toHaveValue(/\/join\//);
});
