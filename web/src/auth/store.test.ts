import { describe, expect, it } from "vitest";
import { renewDelay } from "./store";

const MIN = 60_000;

describe("token renewal", () => {
  it("renews an hour-long token a minute before it expires", () => {
    const now = 1_000_000;
    expect(renewDelay(now + 60 * MIN, now, 60 * MIN)).toBe(59 * MIN);
  });

  it("renews a short-lived token a tenth of its life early", () => {
    const now = 0;
    expect(renewDelay(now + 5 * MIN, now, 5 * MIN)).toBe(4.5 * MIN);
  });

  it("renews at once when the token is already (nearly) expired", () => {
    expect(renewDelay(1000, 5000)).toBe(0);
    expect(renewDelay(30_000, 0)).toBe(0);
  });
});
