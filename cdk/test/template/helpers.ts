/** What the template suites share: the synthesized stack and ways to read it. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../lib/contracts.js";
import type { Synthesized } from "../synth.js";

export type { Synthesized };

export const ref = (id: string) => ({ Ref: id });
export const arnOf = (id: string) => ({ "Fn::GetAtt": [id, "Arn"] });
export const text = (value: unknown) => JSON.stringify(value);

/** The model's deadline, read from the Rust default (crates/parley-llm/src/retry.rs). */
export function modelDeadlineMs(): number {
  const source = readFileSync(join(REPO_ROOT, "crates", "parley-llm", "src", "retry.rs"), "utf8");
  const m = /deadline: Duration::from_secs\((\d+)\)/.exec(source);
  assert.ok(m, "the default model deadline is no longer `deadline: Duration::from_secs(N)` in retry.rs");
  return Number(m[1]) * 1000;
}
