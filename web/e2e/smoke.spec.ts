import { expect, test } from "@playwright/test";

test("the app loads and offers the local sign-in", async ({ page }) => {
  await page.goto("/sign-in");
  await expect(page.getByRole("heading", { name: "Sign in to Parley" })).toBeVisible();
  await expect(page.getByText("Local development sign-in.")).toBeVisible();
});
