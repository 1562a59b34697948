/** The functions and their permissions. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AUTHORIZER_FUNCTION, STREAM_FUNCTION } from "../../lib/contracts.js";
import { functionId, resourcesOf } from "../synth.js";
import { modelDeadlineMs, ref, type Synthesized, text } from "./helpers.js";

/** The six functions behind the APIs (all but the authorizer). */
const HTTP_FUNCTIONS = [
  "create-chat",
  "chat-config",
  "chat-session",
  "chat-room",
  "session-message",
  STREAM_FUNCTION,
];

export function functions({ json }: Synthesized): void {
  const R = json.Resources;
  describe("the functions", () => {
    const ours = resourcesOf(json, "AWS::Lambda::Function").filter(([, f]) =>
      String(f.Properties?.Description).startsWith("Parley "),
    );
    const env = (name: string) => R[functionId(json, name)].Properties?.Environment.Variables;
    const secretIds = Object.fromEntries(
      resourcesOf(json, "AWS::SecretsManager::Secret").map(([id, s]) => [
        String(s.Properties?.Description).includes("guest") ? "guest" : "providers",
        id,
      ]),
    );

    test("are the seven, each arm64 on provided.al2023 with a log group that expires", () => {
      assert.equal(ours.length, 7);
      for (const [, fn] of ours) {
        const props = fn.Properties ?? {};
        assert.deepEqual(props.Architectures, ["arm64"]);
        assert.equal(props.Runtime, "provided.al2023");
        assert.equal(props.Handler, "bootstrap");
        const logGroup = R[props.LoggingConfig.LogGroup.Ref];
        assert.ok(logGroup.Properties?.RetentionInDays > 0, `${props.Description} keeps logs forever`);
      }
    });

    test("get keys only as secret ARNs in PARLEY_SECRETS, auth-check the guest key alone", () => {
      for (const [, fn] of ours) {
        const vars = fn.Properties?.Environment.Variables ?? {};
        for (const key of ["OPENAI_API_KEY", "GEMINI_API_KEY", "PARLEY_GUEST_KEY"]) {
          assert.ok(!(key in vars), `${fn.Properties?.Description} has ${key} in its environment`);
        }
      }
      assert.deepEqual(env(AUTHORIZER_FUNCTION).PARLEY_SECRETS, ref(secretIds.guest));
      assert.match(text(env("session-message").PARLEY_SECRETS), new RegExp(secretIds.providers));
      assert.match(text(env("session-message").PARLEY_SECRETS), new RegExp(secretIds.guest));
    });

    test("know the table, the bucket, the site and the pool", () => {
      const table = resourcesOf(json, "AWS::DynamoDB::Table")[0][0];
      const site = env("create-chat").PARLEY_PUBLIC_URL;
      assert.match(text(site), /https:\/\/.*DomainName/);
      for (const name of HTTP_FUNCTIONS) {
        assert.deepEqual(env(name).PARLEY_TABLE, ref(table));
        assert.ok(env(name).PARLEY_BUCKET);
        assert.deepEqual(env(name).PARLEY_PUBLIC_URL, site);
        assert.deepEqual(env(name).CORS_ORIGINS, site);
      }
      assert.ok(env(AUTHORIZER_FUNCTION).COGNITO_USER_POOL_ID);
      assert.ok(env(AUTHORIZER_FUNCTION).COGNITO_CLIENT_ID);
    });

    test("the six HTTP functions share the distribution's key; auth-check, which counts nobody, has none", () => {
      const key = env("session-message").PARLEY_EDGE_KEY;
      assert.ok(key, "session-message has no PARLEY_EDGE_KEY");
      for (const name of HTTP_FUNCTIONS) assert.deepEqual(env(name).PARLEY_EDGE_KEY, key, name);
      assert.ok(!("PARLEY_EDGE_KEY" in env(AUTHORIZER_FUNCTION)));
    });

    test("outlive the model's deadline where they wait for a model", () => {
      for (const name of ["session-message", STREAM_FUNCTION]) {
        assert.ok(R[functionId(json, name)].Properties?.Timeout * 1000 > modelDeadlineMs(), name);
      }
    });
  });

  describe("IAM", () => {
    const statements = Object.entries(R).flatMap(([id, r]) => {
      const docs =
        r.Type === "AWS::IAM::Policy"
          ? [r.Properties?.PolicyDocument]
          : r.Type === "AWS::IAM::Role"
            ? (r.Properties?.Policies ?? []).map((p: { PolicyDocument: unknown }) => p.PolicyDocument)
            : [];
      return docs.flatMap((d: { Statement: Record<string, unknown>[] }) =>
        d.Statement.map((s) => ({ id, ...s })),
      );
    });
    const list = (v: unknown) => (Array.isArray(v) ? v : [v]);

    test("grants no action `*` or `service:*`", () => {
      assert.ok(statements.length > 10);
      for (const s of statements) {
        for (const action of list(s.Action)) {
          assert.ok(action !== "*" && !String(action).endsWith(":*"), `${s.id} allows ${action}`);
        }
      }
    });

    /** Every resource with a `*` that AWS demands, and why: anything else fails. */
    const WILDCARDS: [RegExp, string][] = [
      [/Bots.*Arn.*\/bots\/\*/, "object keys are made at run time under bots/{botId}/"],
      [
        /"\*"/,
        "CDK's BucketDeployment: cloudfront:CreateInvalidation/GetInvalidation take no narrower resource",
      ],
      [/cdk-hnb659fds-assets/, "CDK's BucketDeployment reads the web app's zip from the asset bucket"],
      [/SiteWeb.*Arn.*\/\*/, "CDK's BucketDeployment writes the web app's files, whose names it cannot know"],
    ];

    test("uses a wildcard resource only where AWS demands it", () => {
      for (const s of statements) {
        for (const resource of list(s.Resource)) {
          const shown = text(resource);
          if (!shown.includes("*")) continue;
          assert.ok(
            WILDCARDS.some(([pattern]) => pattern.test(shown)),
            `${s.id} has an unexplained wildcard resource ${shown}`,
          );
        }
      }
    });

    test("lets only create-chat and chat-config write bot configs", () => {
      const writers = statements
        .filter((s) => list(s.Action).includes("s3:PutObject") && text(s.Resource).includes("/bots/"))
        .map((s) => s.id)
        .sort();
      assert.equal(writers.length, 2);
      for (const w of writers) assert.match(w, /createchat|chatconfig/);
    });
  });
}
