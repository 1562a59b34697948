/**
 * What the synthesized template must say, read from the template itself. The route list
 * and the table's shape come from the same files the Rust side tests against.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { API_STAGE } from "../lib/constructs/api.js";
import { STREAM_STAGE } from "../lib/constructs/stream-api.js";
import { AUTHORIZER_FUNCTION, REPO_ROOT, routes, STREAM_FUNCTION, tableShape } from "../lib/contracts.js";
import { functionId, type Resource, resourcesOf, synth } from "./synth.js";

const { json } = synth();
const R = json.Resources;
const ref = (id: string) => ({ Ref: id });
const arnOf = (id: string) => ({ "Fn::GetAtt": [id, "Arn"] });
const text = (value: unknown) => JSON.stringify(value);

/** The model's deadline, read from the Rust default (crates/parley-llm/src/retry.rs). */
function modelDeadlineMs(): number {
  const source = readFileSync(join(REPO_ROOT, "crates", "parley-llm", "src", "retry.rs"), "utf8");
  const m = /deadline: Duration::from_secs\((\d+)\)/.exec(source);
  assert.ok(m, "the default model deadline is no longer `deadline: Duration::from_secs(N)` in retry.rs");
  return Number(m[1]) * 1000;
}

/** A REST API resource's full path, from its chain of parents. */
function restPath(id: string): string {
  const props = R[id].Properties ?? {};
  const parent = props.ParentId;
  const above = parent && "Ref" in parent ? restPath(parent.Ref) : "";
  return `${above}/${props.PathPart}`;
}

describe("the HTTP API", () => {
  const [authorizerId, authorizer] = resourcesOf(json, "AWS::ApiGatewayV2::Authorizer")[0];
  const byKey = new Map(
    resourcesOf(json, "AWS::ApiGatewayV2::Route").map(([, r]) => [r.Properties?.RouteKey, r.Properties]),
  );
  const httpRoutes = routes().filter((r) => r.fn !== STREAM_FUNCTION);

  test("has every route of docs/openapi.json but the streaming ones, and no other", () => {
    assert.ok(httpRoutes.length > 20, "the route list was read");
    assert.deepEqual([...byKey.keys()].sort(), httpRoutes.map((r) => `${r.method} ${r.path}`).sort());
  });

  test("sends each route to the function its tag names, through auth-check", () => {
    for (const route of httpRoutes) {
      const props = byKey.get(`${route.method} ${route.path}`);
      assert.equal(props?.AuthorizationType, "CUSTOM", `${route.method} ${route.path}`);
      assert.deepEqual(props?.AuthorizerId, ref(authorizerId));
      const integrationId = props?.Target["Fn::Join"][1][1].Ref;
      const integration = R[integrationId].Properties;
      assert.deepEqual(integration?.IntegrationUri, arnOf(functionId(json, route.fn)), route.path);
      assert.equal(integration?.PayloadFormatVersion, "2.0");
      assert.ok(integration?.TimeoutInMillis > modelDeadlineMs(), "the integration outwaits the model");
    }
  });

  test("authorizes with auth-check, simple responses, no identity source, no caching", () => {
    const props = authorizer.Properties ?? {};
    assert.equal(props.AuthorizerType, "REQUEST");
    assert.equal(props.AuthorizerPayloadFormatVersion, "2.0");
    assert.equal(props.EnableSimpleResponses, true);
    assert.deepEqual(props.IdentitySource ?? [], []);
    assert.equal(props.AuthorizerResultTtlInSeconds, 0);
    assert.match(text(props.AuthorizerUri), new RegExp(functionId(json, AUTHORIZER_FUNCTION)));
  });

  test("has one stage, named api, throttled, with access logs that hold no path or body", () => {
    const stages = resourcesOf(json, "AWS::ApiGatewayV2::Stage");
    assert.equal(stages.length, 1);
    const props = stages[0][1].Properties ?? {};
    assert.equal(props.StageName, API_STAGE);
    assert.ok(props.DefaultRouteSettings.ThrottlingRateLimit > 0);
    assert.ok(props.DefaultRouteSettings.ThrottlingBurstLimit > 0);
    const format = props.AccessLogSettings.Format as string;
    assert.match(format, /\$context\.routeKey/);
    for (const secret of ["$context.path", "body", "header", "querystring"]) {
      assert.ok(!format.toLowerCase().includes(secret.toLowerCase()), `access log holds ${secret}`);
    }
  });
});

describe("the REST API of the streaming routes", () => {
  const methods = resourcesOf(json, "AWS::ApiGateway::Method");
  const streamRoutes = routes().filter((r) => r.fn === STREAM_FUNCTION);
  const [authorizerId, authorizer] = resourcesOf(json, "AWS::ApiGateway::Authorizer")[0];
  const stream = functionId(json, STREAM_FUNCTION);

  test("has exactly the four session-stream routes", () => {
    assert.equal(streamRoutes.length, 4);
    const found = methods.map(
      ([, m]) => `${m.Properties?.HttpMethod} ${restPath(m.Properties?.ResourceId.Ref)}`,
    );
    assert.deepEqual(found.sort(), streamRoutes.map((r) => `${r.method} ${r.path}`).sort());
  });

  test("streams each from session-stream, through auth-check, above the model deadline", () => {
    for (const [, method] of methods) {
      const props = method.Properties ?? {};
      assert.equal(props.AuthorizationType, "CUSTOM");
      assert.deepEqual(props.AuthorizerId, ref(authorizerId));
      assert.equal(props.Integration.Type, "AWS_PROXY");
      assert.equal(props.Integration.ResponseTransferMode, "STREAM");
      const uri = text(props.Integration.Uri);
      assert.match(uri, /2021-11-15\/functions\//);
      assert.match(uri, /response-streaming-invocations/);
      assert.match(uri, new RegExp(stream));
      assert.ok(props.Integration.TimeoutInMillis > modelDeadlineMs());
    }
  });

  test("authorizes with auth-check, REQUEST, no identity source, no caching", () => {
    const props = authorizer.Properties ?? {};
    assert.equal(props.Type, "REQUEST");
    assert.ok(props.IdentitySource === undefined || props.IdentitySource === "");
    assert.equal(props.AuthorizerResultTtlInSeconds, 0);
    assert.match(text(props.AuthorizerUri), new RegExp(functionId(json, AUTHORIZER_FUNCTION)));
  });

  test("is regional, with a throttled stage named stream whose logs hold no data", () => {
    const [, api] = resourcesOf(json, "AWS::ApiGateway::RestApi")[0];
    assert.deepEqual(api.Properties?.EndpointConfiguration.Types, ["REGIONAL"]);
    const [, stage] = resourcesOf(json, "AWS::ApiGateway::Stage")[0];
    const props = stage.Properties ?? {};
    assert.equal(props.StageName, STREAM_STAGE);
    assert.ok(!props.CacheClusterEnabled, "a cache cluster bills by the hour");
    for (const setting of props.MethodSettings) {
      assert.ok(setting.ThrottlingRateLimit > 0 && setting.ThrottlingBurstLimit > 0);
      assert.equal(setting.DataTraceEnabled, false);
    }
    assert.match(props.AccessLogSetting.Format, /\$context\.resourcePath/);
    assert.ok(!props.AccessLogSetting.Format.includes("$context.path"));
  });
});

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
    for (const name of [
      "create-chat",
      "chat-config",
      "chat-session",
      "chat-room",
      "session-message",
      STREAM_FUNCTION,
    ]) {
      assert.deepEqual(env(name).PARLEY_TABLE, ref(table));
      assert.ok(env(name).PARLEY_BUCKET);
      assert.deepEqual(env(name).PARLEY_PUBLIC_URL, site);
      assert.deepEqual(env(name).CORS_ORIGINS, site);
    }
    assert.ok(env(AUTHORIZER_FUNCTION).COGNITO_USER_POOL_ID);
    assert.ok(env(AUTHORIZER_FUNCTION).COGNITO_CLIENT_ID);
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

describe("the data", () => {
  const [, table] = resourcesOf(json, "AWS::DynamoDB::Table")[0];

  test("the table is exactly the bootstrap shape, with PITR, TTL and deletion protection", () => {
    for (const [key, value] of Object.entries(tableShape())) {
      assert.deepEqual(table.Properties?.[key], value, key);
    }
    assert.equal(table.Properties?.BillingMode, "PAY_PER_REQUEST");
    assert.equal(table.Properties?.TimeToLiveSpecification.Enabled, true);
    assert.deepEqual(table.Properties?.PointInTimeRecoverySpecification, {
      PointInTimeRecoveryEnabled: true,
    });
    assert.equal(table.Properties?.DeletionProtectionEnabled, true);
    assert.equal(table.DeletionPolicy, "Retain");
    assert.equal(table.UpdateReplacePolicy, "Retain");
  });

  test("every bucket blocks public access and refuses plain HTTP", () => {
    const buckets = resourcesOf(json, "AWS::S3::Bucket");
    assert.equal(buckets.length, 3);
    const policies = resourcesOf(json, "AWS::S3::BucketPolicy").map(([, p]) => p.Properties);
    for (const [id, bucket] of buckets) {
      assert.deepEqual(bucket.Properties?.PublicAccessBlockConfiguration, {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      const policy = policies.find((p) => text(p?.Bucket) === text(ref(id)));
      const denies = (policy?.PolicyDocument.Statement ?? []).filter(
        (s: Resource["Properties"]) =>
          s?.Effect === "Deny" && text(s?.Condition) === text({ Bool: { "aws:SecureTransport": "false" } }),
      );
      assert.equal(denies.length, 1, `${id} does not refuse plain HTTP`);
    }
  });

  test("the bots bucket is versioned, encrypted and retained", () => {
    const [, bots] = resourcesOf(json, "AWS::S3::Bucket").filter(([id]) => id.includes("Bots"))[0];
    assert.equal(bots.Properties?.VersioningConfiguration.Status, "Enabled");
    assert.ok(bots.Properties?.BucketEncryption);
    assert.equal(bots.DeletionPolicy, "Retain");
  });
});
