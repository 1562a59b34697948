import { render, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Markdown } from "./Markdown";

describe("a reply's Markdown", () => {
  it("never runs HTML or javascript: links a reply carries", () => {
    const reply = [
      "Hello <script>window.pwned = true</script> <img src=x onerror=alert(1)>",
      "",
      "[click me](javascript:alert(1)) and [data](data:text/html,<script>alert(1)</script>)",
      "",
      '<a href="javascript:alert(2)">raw link</a>',
    ].join("\n");
    const { container } = render(<Markdown text={reply} />);
    expect(container.querySelector("script")).toBeNull();
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("[onerror]")).toBeNull();
    for (const a of container.querySelectorAll("a")) {
      expect(a.getAttribute("href") ?? "").not.toMatch(/^(javascript|data):/i);
    }
    expect((window as unknown as { pwned?: boolean }).pwned).toBeUndefined();
    expect(container.textContent).toContain("click me");
  });

  it("opens real links in a new tab without opener or referrer", () => {
    const { container } = render(<Markdown text="See [the docs](https://example.com/docs)." />);
    const a = container.querySelector("a");
    expect(a?.getAttribute("href")).toBe("https://example.com/docs");
    expect(a?.getAttribute("rel")).toBe("noopener noreferrer");
    expect(a?.getAttribute("target")).toBe("_blank");
  });

  it("renders GitHub Markdown and highlights code once a code block is there", async () => {
    const text = "| a | b |\n|---|---|\n| 1 | 2 |\n\n```js\nconst x = 1;\n```";
    const { container } = render(<Markdown text={text} />);
    expect(container.querySelector("table")).not.toBeNull();
    expect(container.querySelector("button[aria-label='Copy code']")).not.toBeNull();
    await waitFor(() => expect(container.querySelector("code.hljs .hljs-keyword")).not.toBeNull());
  });
});
