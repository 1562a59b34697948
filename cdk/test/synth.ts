/**
 * Synthesizes the stack for the tests, offline and without credentials, against
 * placeholder zips and a placeholder web app in a temporary directory: the template's
 * assertions depend on which functions and files exist, never on the binaries, so
 * `make test` need not build seven arm64 release binaries to check the template.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { functionNames, routes, tableShape } from "../lib/contracts.js";
import { ParleyStack } from "../lib/parley-stack.js";
import { readSettings } from "../lib/settings.js";

/** The smallest valid zip: an end-of-central-directory record and nothing else. */
const EMPTY_ZIP = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]);

/** Temporary directories of this process, removed when it exits (unless it prints them). */
const made: string[] = [];
process.on("exit", () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
function temporary(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A directory of `<function>/bootstrap.zip` placeholders and a built-looking web app. */
export function placeholders(): { lambdaDir: string; webDir: string } {
  const root = temporary("parley-cdk-");
  const lambdaDir = join(root, "lambda");
  for (const name of functionNames()) {
    mkdirSync(join(lambdaDir, name), { recursive: true });
    writeFileSync(join(lambdaDir, name, "bootstrap.zip"), EMPTY_ZIP);
  }
  const webDir = join(root, "web");
  mkdirSync(join(webDir, "assets"), { recursive: true });
  writeFileSync(join(webDir, "index.html"), "<!doctype html><title>Parley</title>");
  writeFileSync(join(webDir, "assets", "index-0123abcd.js"), "console.log('parley');");
  return { lambdaDir, webDir };
}

export interface Synthesized {
  readonly app: App;
  readonly stack: ParleyStack;
  readonly template: Template;
  /** The template as CloudFormation reads it. */
  readonly json: { Resources: Record<string, Resource>; Outputs: Record<string, { Value: unknown }> };
  readonly outdir: string;
}

export interface Resource {
  Type: string;
  // biome-ignore lint/suspicious/noExplicitAny: a template is untyped JSON, which the tests read by path.
  Properties?: Record<string, any>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

/** The app as `bin/parley.ts` builds it (cdk-nag included unless `nag` is false), with `context` added. */
export function synth(context: Record<string, string> = {}, nag = true): Synthesized {
  const outdir = temporary("parley-cdk-out-");
  const app = new App({ outdir, context: { ...placeholders(), ...context } });
  const stack = new ParleyStack(app, "Parley", {
    settings: readSettings(app.node),
    routes: routes(),
    table: tableShape(),
  });
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // Throws when a validation plugin (cdk-nag) reports a finding nobody acknowledged.
  const assembly = app.synth();
  const json = JSON.parse(readFileSync(join(assembly.directory, "Parley.template.json"), "utf8"));
  return { app, stack, template: Template.fromJSON(json), json, outdir: assembly.directory };
}

/** Resources of `type`, by logical id. */
export function resourcesOf(json: Synthesized["json"], type: string): [string, Resource][] {
  return Object.entries(json.Resources).filter(([, r]) => r.Type === type);
}

/** The logical id of the function `name` (its description is `Parley <name>`). */
export function functionId(json: Synthesized["json"], name: string): string {
  const found = resourcesOf(json, "AWS::Lambda::Function").filter(
    ([, r]) => r.Properties?.Description === `Parley ${name}`,
  );
  if (found.length !== 1) throw new Error(`expected one function ${name}, found ${found.length}`);
  return found[0][0];
}

// `node --import tsx test/synth.ts` prints a fresh placeholder directory pair, for the
// CLI's synthesis in scripts/cdk.sh (which removes them).
if (process.argv[1] === import.meta.filename) {
  const dirs = placeholders();
  made.length = 0; // the caller removes them
  console.log(JSON.stringify(dirs));
}
