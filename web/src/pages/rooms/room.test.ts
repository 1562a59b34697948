import { describe, expect, it } from "vitest";
import type { MessageView } from "../../api/types";
import { authorLabel, inviteUrl, mentionsBot, mergeRoom, pollAfter, shareCodeFrom } from "./room";

function msg(seq: number, content: string, status: MessageView["status"] = "complete"): MessageView {
  return {
    seq,
    content,
    status,
    role: seq % 2 ? "user" : "assistant",
    authorId: seq % 2 ? "u1" : "bot",
    createdAt: "2026-01-01T00:00:00Z",
  };
}

describe("rooms", () => {
  it("builds the invite link the join page reads", () => {
    expect(inviteUrl("https://p.dev", "r 1", "abc")).toBe("https://p.dev/join/r%201/abc");
  });

  it("takes a share code from a pasted link or as typed", () => {
    expect(shareCodeFrom(" https://p.dev/s/Xy12?x=1 ")).toBe("Xy12");
    expect(shareCodeFrom("Xy12")).toBe("Xy12");
  });

  it("sees @bot as a word, not inside an address", () => {
    expect(mentionsBot("@bot what now?")).toBe(true);
    expect(mentionsBot("hey @Bot.")).toBe(true);
    expect(mentionsBot("mail me at me@bot.dev")).toBe(false);
    expect(mentionsBot("@botany")).toBe(false);
  });

  it("GIVEN a reply streaming WHEN a poll brings less text THEN the longer text stays", () => {
    const streamed = [msg(1, "hi"), msg(2, "Hello th", "streaming")];
    const merged = mergeRoom(streamed, [msg(2, "Hel", "streaming"), msg(3, "next")]);
    expect(merged.map((m) => m.content)).toEqual(["hi", "Hello th", "next"]);
    // The finished reply replaces the partial one, whatever its length.
    expect(mergeRoom(merged, [msg(2, "Hello", "stopped")])[1]).toMatchObject({
      content: "Hello",
      status: "stopped",
    });
  });

  it("never turns a finished message back into a streaming one", () => {
    const merged = mergeRoom([msg(2, "done")], [msg(2, "do", "streaming")]);
    expect(merged[0]).toMatchObject({ content: "done", status: "complete" });
  });

  it("polls from before the first open message, else after the newest", () => {
    expect(pollAfter([])).toBe(0);
    expect(pollAfter([msg(1, "a"), msg(2, "b")])).toBe(2);
    expect(pollAfter([msg(1, "a", "pending"), msg(2, "b", "streaming"), msg(3, "c")])).toBe(0);
    expect(pollAfter([msg(5, "a"), msg(6, "b", "streaming")])).toBe(5);
  });

  it("names authors: the bot, you, or the member's name", () => {
    expect(authorLabel(msg(2, "x"), "u1", "Pirate")).toBe("Pirate");
    expect(authorLabel(msg(1, "x"), "u1")).toBe("You");
    expect(authorLabel({ ...msg(1, "x"), authorName: "bob" }, "u2")).toBe("bob");
  });
});
