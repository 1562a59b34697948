/**
 * What a deployment may choose, from CDK context (`cdk deploy -c key=value`) or the
 * environment, with the defaults a first deployment wants.
 */
import { join } from "node:path";
import type { Node } from "constructs";
import { REPO_ROOT } from "./contracts.js";

export interface Settings {
  /** Where `scripts/package.sh --arm64` wrote `<function>/bootstrap.zip`. */
  readonly lambdaDir: string;
  /** The built web app (`scripts/web-build.sh`). */
  readonly webDir: string;
  /** Anyone may create an account on the managed login page (`-c selfSignUp=false` turns it off). */
  readonly selfSignUp: boolean;
  /** Also allow `http://localhost:8787/auth/callback`, for a local web app on the cloud pool. */
  readonly localCallback: boolean;
  /** Only this Cognito group may create bots (`PARLEY_CREATORS_GROUP`); the group is created. */
  readonly creatorsGroup?: string;
  /** The managed login domain's prefix; default `parley-<account id>` (unique per account). */
  readonly domainPrefix?: string;
  /** `PARLEY_MODELS` for the functions; the functions' default when unset. */
  readonly models?: string;
  /** Steady requests per second each API stage lets through (denial-of-wallet guard). */
  readonly rateLimit: number;
  /** Requests a stage lets through at once above the steady rate. */
  readonly burstLimit: number;
}

type Source = Pick<Node, "tryGetContext">;

function text(node: Source, key: string, env?: string): string | undefined {
  const value = node.tryGetContext(key) ?? (env === undefined ? undefined : process.env[env]);
  if (value === undefined || value === null) return undefined;
  const trimmed = String(value).trim();
  return trimmed === "" ? undefined : trimmed;
}

function flag(node: Source, key: string, fallback: boolean): boolean {
  const value = text(node, key);
  if (value === undefined) return fallback;
  if (value === "true" || value === "false") return value === "true";
  throw new Error(`context ${key} must be true or false, not ${value}`);
}

function count(node: Source, key: string, fallback: number): number {
  const value = text(node, key);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`context ${key} must be a whole number above 0`);
  return n;
}

export function readSettings(node: Source): Settings {
  const target = process.env.CARGO_TARGET_DIR ?? join(process.env.HOME ?? "", ".cache", "parley", "target");
  return {
    lambdaDir: text(node, "lambdaDir", "PARLEY_PACKAGE_DIR") ?? join(target, "lambda"),
    webDir: text(node, "webDir") ?? join(REPO_ROOT, "web", "dist"),
    selfSignUp: flag(node, "selfSignUp", true),
    localCallback: flag(node, "localCallback", false),
    creatorsGroup: text(node, "creatorsGroup"),
    domainPrefix: text(node, "domainPrefix"),
    models: text(node, "models"),
    // 50 requests a second with bursts of 100 is far above one person's use and caps
    // what a script can spend: at most ~130 M requests a month per API.
    rateLimit: count(node, "rateLimit", 50),
    burstLimit: count(node, "burstLimit", 100),
  };
}
