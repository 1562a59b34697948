/** The CloudFront Function that names the viewer to the APIs, run as CloudFront runs it: handler(event). */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { VIEWER_ADDRESS_HEADER } from "../lib/constructs/site.js";

interface Header {
  value: string;
  multiValue?: { value: string }[];
}
type Request = { uri: string; headers: Record<string, Header> };
type Handler = (event: { viewer: { ip: string }; request: Request }) => Request;
const source = readFileSync(join(import.meta.dirname, "..", "lib", "viewer-address.js"), "utf8");
const handler = new Function(`${source}; return handler;`)() as Handler;
const forwarded = (ip: string, headers: Record<string, Header>) =>
  handler({ viewer: { ip }, request: { uri: "/api/session-message", headers } }).headers;

test("the viewer's address goes to the API in the header the functions read", () => {
  for (const ip of ["198.51.100.7", "2001:db8::9"]) {
    assert.deepEqual(forwarded(ip, {})[VIEWER_ADDRESS_HEADER], { value: ip });
  }
});

test("an address the client wrote itself is replaced, every value of it", () => {
  const headers = forwarded("198.51.100.7", {
    [VIEWER_ADDRESS_HEADER]: {
      value: "203.0.113.1",
      multiValue: [{ value: "203.0.113.1" }, { value: "::1" }],
    },
  });
  assert.deepEqual(headers[VIEWER_ADDRESS_HEADER], { value: "198.51.100.7" });
});

test("the request's other headers and its path are left as they are", () => {
  const request = handler({
    viewer: { ip: "198.51.100.7" },
    request: { uri: "/stream/sessions/s1/messages", headers: { authorization: { value: "Bearer t" } } },
  });
  assert.equal(request.uri, "/stream/sessions/s1/messages");
  assert.deepEqual(request.headers.authorization, { value: "Bearer t" });
});
