/** The CloudFront Function behind the SPA fallback, run as CloudFront runs it: handler(event). */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

type Handler = (event: { request: { uri: string } }) => { uri: string };
const source = readFileSync(join(import.meta.dirname, "..", "lib", "spa-fallback.js"), "utf8");
const handler = new Function(`${source}; return handler;`)() as Handler;
const served = (uri: string) => handler({ request: { uri } }).uri;

test("a route of the web app gets /index.html", () => {
  for (const uri of ["/", "/s/AbC123", "/bots/new", "/auth/callback", "/join/r1/code", "/admin/"]) {
    assert.equal(served(uri), "/index.html", uri);
  }
});

test("a file is served as it is", () => {
  for (const uri of ["/config.json", "/assets/index-0123abcd.js", "/favicon.svg", "/index.html"]) {
    assert.equal(served(uri), uri);
  }
});
