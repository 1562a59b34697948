/**
 * The facts this app shares with the Rust side, read from the files the Rust side
 * writes and tests, never restated here: the API's routes (docs/openapi.json, each
 * operation's first tag naming its function) and the table's shape
 * (docs/dynamodb-table.json, generated from `parley bootstrap`'s definition).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The repository's root (this file is cdk/lib/contracts.ts). */
export const REPO_ROOT = join(import.meta.dirname, "..", "..");

/** The tag of the local-only routes (the development sign-in and its keys). */
const LOCAL_TAG = "local";

/** The function that serves the streaming routes, behind the REST API. */
export const STREAM_FUNCTION = "session-stream";

/** The Lambda authorizer of both APIs. */
export const AUTHORIZER_FUNCTION = "auth-check";

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;

/** One operation of the API and the function that serves it. */
export interface Route {
  readonly method: string;
  readonly path: string;
  readonly fn: string;
}

interface OpenApi {
  paths: Record<string, Partial<Record<string, { tags?: string[] }>>>;
}

/** Every cloud route of docs/openapi.json (those tagged `local` are left out). */
export function routes(openapiPath = join(REPO_ROOT, "docs", "openapi.json")): Route[] {
  const doc = JSON.parse(readFileSync(openapiPath, "utf8")) as OpenApi;
  const out: Route[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const fn = item[method]?.tags?.[0];
      if (fn === undefined) {
        if (item[method] !== undefined) throw new Error(`${method} ${path} has no tag naming its function`);
        continue;
      }
      if (fn !== LOCAL_TAG) out.push({ method: method.toUpperCase(), path, fn });
    }
  }
  return out;
}

/** The functions the routes name, sorted, then the authorizer. */
export function functionNames(all: Route[] = routes()): string[] {
  return [...new Set(all.map((r) => r.fn)).values()].sort().concat(AUTHORIZER_FUNCTION);
}

/** `AWS::DynamoDB::Table` properties in CloudFormation casing. */
export interface TableShape {
  readonly AttributeDefinitions: { AttributeName: string; AttributeType: string }[];
  readonly KeySchema: { AttributeName: string; KeyType: string }[];
  readonly GlobalSecondaryIndexes?: { IndexName: string }[];
  readonly [property: string]: unknown;
}

/** The table as `parley bootstrap` makes it. */
export function tableShape(path = join(REPO_ROOT, "docs", "dynamodb-table.json")): TableShape {
  return JSON.parse(readFileSync(path, "utf8")) as TableShape;
}
