/**
 * The linters over the app: cdk-nag's AwsSolutions pack (a finding nobody acknowledged
 * fails synthesis; every acknowledgement gives its reason) and cfn-lint on the
 * synthesized template (no error).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { App, Stack, Validations } from "aws-cdk-lib";
import * as s3 from "aws-cdk-lib/aws-s3";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { RAW_FINDINGS } from "../lib/nag.js";
import { synth } from "./synth.js";

const { stack, outdir } = synth();

/** Every acknowledgement in the tree: construct path, rule id, reason. */
function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: c.node.path,
          id,
          reason,
        })),
      ),
  );
}

describe("cdk-nag", () => {
  test("the stack synthesizes with AwsSolutions on (it throws on an unacknowledged finding)", () => {
    assert.ok(stack.node.findAll().length > 100);
  });

  test("fails synthesis on a finding nobody acknowledged", () => {
    const app = new App();
    const bad = new Stack(app, "Bad");
    new s3.Bucket(bad, "Open", { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS_ONLY });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    assert.throws(() => app.synth());
  });

  test("every acknowledgement is of an AwsSolutions rule and says why, in a sentence", () => {
    const acks = acknowledgements(stack).filter((a) => a.id.includes("AwsSolutions"));
    assert.ok(acks.length >= 10, "the acknowledgements were found");
    for (const a of acks) {
      assert.ok(a.reason.length >= 40, `${a.id} at ${a.path}: "${a.reason}" is no reason`);
    }
  });

  test("every acknowledgement still answers a finding (none outlives what it excused)", () => {
    const raw = synth({ [RAW_FINDINGS]: "true" }, false);
    const findings = new AwsSolutionsChecks()
      .validateScope(raw.stack)
      .violations.flatMap((v) =>
        v.violatingResources.map((r) => ({ id: v.ruleName, path: r.constructPath ?? "" })),
      );
    assert.ok(findings.length > 0, "the raw findings were collected");
    for (const a of acknowledgements(stack).filter((a) => a.id.includes("AwsSolutions-"))) {
      const id = a.id.replace(/^AwsSolutions::/, "");
      assert.ok(
        findings.some((f) => f.id === id && (f.path === a.path || f.path.startsWith(`${a.path}/`))),
        `${id} at ${a.path} answers no finding: remove it`,
      );
    }
  });
});

describe("cfn-lint", () => {
  const venv = process.env.PARLEY_VENV ?? join(homedir(), ".cache", "parley", "venv");
  const cfnLint = process.env.CFN_LINT ?? join(venv, "bin", "cfn-lint");

  test("finds no error in the template", () => {
    assert.ok(existsSync(cfnLint), `${cfnLint} is missing: scripts/venv.sh installs it`);
    const run = spawnSync(cfnLint, ["--format", "parseable", join(outdir, "Parley.template.json")], {
      encoding: "utf8",
    });
    // Exit status bits: 2 errors, 4 warnings, 8 informational; 1 a failure of cfn-lint itself.
    const status = run.status ?? 1;
    assert.ok(status !== 1 && (status & 2) === 0, `cfn-lint (exit ${status}):\n${run.stdout}${run.stderr}`);
  });
});
