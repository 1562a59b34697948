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

const { json, outdir } = synth();
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
    assert.equal(props.IdentitySource, undefined);
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
    assert.equal(props.IdentitySource, undefined);
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

describe("the site", () => {
  const [, cdn] = resourcesOf(json, "AWS::CloudFront::Distribution")[0];
  const config = cdn.Properties?.DistributionConfig;
  const behaviour = (path: string) =>
    config.CacheBehaviors.find((b: { PathPattern: string }) => b.PathPattern === path);
  const origin = (id: string) => config.Origins.find((o: { Id: string }) => o.Id === id);
  const CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
  const ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac";

  test("sends /api/* to the HTTP API and /stream/* to the REST API, uncached, over HTTPS", () => {
    const apiId = resourcesOf(json, "AWS::ApiGatewayV2::Api")[0][0];
    const restId = resourcesOf(json, "AWS::ApiGateway::RestApi")[0][0];
    for (const [path, target] of [
      [`/${API_STAGE}/*`, apiId],
      [`/${STREAM_STAGE}/*`, restId],
    ]) {
      const b = behaviour(path);
      assert.ok(b, `no behaviour for ${path}`);
      assert.equal(b.CachePolicyId, CACHING_DISABLED);
      assert.equal(b.OriginRequestPolicyId, ALL_VIEWER_EXCEPT_HOST_HEADER);
      assert.equal(b.ViewerProtocolPolicy, "https-only");
      assert.ok(b.AllowedMethods.includes("POST") && b.AllowedMethods.includes("DELETE"));
      const o = origin(b.TargetOriginId);
      assert.equal(o.OriginPath, undefined, "the stage is in the path already");
      assert.match(text(o.DomainName), new RegExp(`"Ref":"${target}".*execute-api`));
      assert.equal(o.CustomOriginConfig.OriginProtocolPolicy, "https-only");
      // Above the 15 s heartbeat of a stream, and of the HTTP API's answer time.
      assert.ok(o.CustomOriginConfig.OriginReadTimeout > 15);
    }
  });

  test("serves the app from the private bucket with the SPA fallback, and no error pages", () => {
    const d = config.DefaultCacheBehavior;
    assert.equal(d.ViewerProtocolPolicy, "redirect-to-https");
    assert.equal(d.FunctionAssociations.length, 1);
    assert.equal(d.FunctionAssociations[0].EventType, "viewer-request");
    assert.ok(origin(d.TargetOriginId).OriginAccessControlId, "the bucket is read through OAC");
    // Distribution-wide error pages would turn the API's 403/404 problem+json into HTML 200.
    assert.equal(config.CustomErrorResponses, undefined);
    for (const b of config.CacheBehaviors) assert.equal(b.FunctionAssociations, undefined);
    assert.equal(config.DefaultRootObject, "index.html");
  });

  test("sends security headers with the web app: CSP without inline script, no framing, HSTS", () => {
    const [id, policy] = resourcesOf(json, "AWS::CloudFront::ResponseHeadersPolicy")[0];
    assert.deepEqual(config.DefaultCacheBehavior.ResponseHeadersPolicyId, ref(id));
    const headers = policy.Properties?.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    const csp = text(headers.ContentSecurityPolicy.ContentSecurityPolicy);
    assert.match(csp, /script-src 'self';/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /connect-src 'self' https:\/\/parley-.*amazoncognito\.com/);
    assert.equal(headers.FrameOptions.FrameOption, "DENY");
    assert.equal(headers.ReferrerPolicy.ReferrerPolicy, "no-referrer");
    assert.ok(headers.StrictTransportSecurity.AccessControlMaxAgeSec >= 31536000);
    assert.ok(headers.ContentTypeOptions.Override);
  });

  test("writes /config.json for the cloud, never cached long", () => {
    const deployments = resourcesOf(json, "Custom::CDKBucketDeployment").map(([, d]) => d.Properties ?? {});
    const pages = deployments.find((d) => d.SourceMarkers?.some((m: object) => Object.keys(m).length > 0));
    assert.ok(pages, "no deployment writes config.json");
    assert.equal(pages.SystemMetadata["cache-control"], "no-cache");
    assert.deepEqual(pages.DistributionPaths, ["/*"]);
    const key =
      pages.SourceObjectKeys[pages.SourceMarkers.findIndex((m: object) => Object.keys(m).length > 0)];
    const written = readFileSync(join(outdir, `asset.${key.replace(/\.zip$/, "")}`, "config.json"), "utf8");
    const markers = pages.SourceMarkers.find((m: object) => Object.keys(m).length > 0);
    const resolved = JSON.parse(
      written.replace(/<<marker:0xbaba:\d+>>/g, (m: string) => text(markers[m]).replace(/"/g, "'")),
    );
    assert.equal(resolved.mode, "cloud");
    assert.equal(resolved.apiBase, `/${API_STAGE}`);
    assert.equal(resolved.streamBase, `/${STREAM_STAGE}`);
    const clientId = resourcesOf(json, "AWS::Cognito::UserPoolClient")[0][0];
    assert.equal(resolved.cognito.clientId, `{'Ref':'${clientId}'}`);
    assert.match(resolved.cognito.domain, /^parley-.*\.auth\..*\.amazoncognito\.com$/);
  });
});

describe("Cognito", () => {
  const [, pool] = resourcesOf(json, "AWS::Cognito::UserPool")[0];
  const [, client] = resourcesOf(json, "AWS::Cognito::UserPoolClient")[0];

  test("the pool: email sign-in, strong passwords, optional TOTP, self sign-up, protected", () => {
    const p = pool.Properties ?? {};
    assert.deepEqual(p.UsernameAttributes, ["email"]);
    const pw = p.Policies.PasswordPolicy;
    assert.ok(pw.MinimumLength >= 12);
    assert.ok(pw.RequireLowercase && pw.RequireUppercase && pw.RequireNumbers && pw.RequireSymbols);
    assert.equal(p.MfaConfiguration, "OPTIONAL");
    assert.deepEqual(p.EnabledMfas, ["SOFTWARE_TOKEN_MFA"]);
    assert.equal(p.AdminCreateUserConfig.AllowAdminCreateUserOnly, false);
    assert.equal(p.DeletionProtection, "ACTIVE");
    assert.equal(pool.DeletionPolicy, "Retain");
  });

  test("the web client: no secret, code flow, callback and sign-out on the site only", () => {
    const c = client.Properties ?? {};
    assert.equal(c.GenerateSecret, false);
    assert.deepEqual(c.AllowedOAuthFlows, ["code"]);
    assert.ok(c.ExplicitAuthFlows.includes("ALLOW_REFRESH_TOKEN_AUTH"));
    assert.equal(c.CallbackURLs.length, 1);
    assert.match(text(c.CallbackURLs[0]), /"https:\/\/",.*DomainName.*"\/auth\/callback"/);
    assert.equal(c.LogoutURLs.length, 1);
    assert.ok(!text(c).includes("localhost"));
  });

  test("the managed login domain and the groups", () => {
    const [, domain] = resourcesOf(json, "AWS::Cognito::UserPoolDomain")[0];
    assert.equal(domain.Properties?.ManagedLoginVersion, 2);
    assert.equal(resourcesOf(json, "AWS::Cognito::ManagedLoginBranding").length, 1);
    const groups = resourcesOf(json, "AWS::Cognito::UserPoolGroup").map(([, g]) => g.Properties?.GroupName);
    assert.deepEqual(groups.sort(), ["admin", "tier-pro", "tier-unlimited"]);
  });

  test("the outputs say where everything is and how to make an admin", () => {
    for (const name of [
      "SiteUrl",
      "ApiUrl",
      "StreamUrl",
      "HttpApiUrl",
      "StreamApiUrl",
      "UserPoolId",
      "UserPoolClientId",
    ]) {
      assert.ok(json.Outputs[name], name);
    }
    assert.match(
      text(json.Outputs.MakeAdminCommand.Value),
      /aws cognito-idp admin-add-user-to-group .*--group-name admin/,
    );
  });
});

describe("cost", () => {
  /** How each resource type bills: none of them by the hour (see docs/deploy.md). */
  const PRICED: Record<string, string> = {
    "AWS::ApiGateway::Account": "free (the account's logging role)",
    "AWS::ApiGateway::Authorizer": "free",
    "AWS::ApiGateway::Deployment": "free",
    "AWS::ApiGateway::Method": "free",
    "AWS::ApiGateway::Resource": "free",
    "AWS::ApiGateway::RestApi": "per request",
    "AWS::ApiGateway::Stage": "free without a cache cluster (asserted above)",
    "AWS::ApiGatewayV2::Api": "per request",
    "AWS::ApiGatewayV2::Authorizer": "free",
    "AWS::ApiGatewayV2::Integration": "free",
    "AWS::ApiGatewayV2::Route": "free",
    "AWS::ApiGatewayV2::Stage": "free",
    "AWS::CDK::Metadata": "free",
    "AWS::CloudFront::Distribution": "per request and byte",
    "AWS::CloudFront::Function": "per invocation",
    "AWS::CloudFront::OriginAccessControl": "free",
    "AWS::CloudFront::ResponseHeadersPolicy": "free",
    "AWS::Cognito::ManagedLoginBranding": "free",
    "AWS::Cognito::UserPool": "per monthly active user above 10,000",
    "AWS::Cognito::UserPoolClient": "free",
    "AWS::Cognito::UserPoolDomain": "free",
    "AWS::Cognito::UserPoolGroup": "free",
    "AWS::DynamoDB::Table": "per request and stored GB (on-demand)",
    "AWS::IAM::Policy": "free",
    "AWS::IAM::Role": "free",
    "AWS::Lambda::Function": "per request and GB-second",
    "AWS::Lambda::LayerVersion": "free (CDK's deployment helper)",
    "AWS::Lambda::Permission": "free",
    "AWS::Logs::LogGroup": "per ingested and stored GB",
    "AWS::S3::Bucket": "per request and stored GB",
    "AWS::S3::BucketPolicy": "free",
    "AWS::SecretsManager::Secret": "$0.40 a month each, the one fixed cost",
    "Custom::CDKBucketDeployment": "free (runs during deployments)",
    "Custom::S3AutoDeleteObjects": "free (runs when the stack is deleted)",
  };

  test("every resource type is one whose price is known and none bills by the hour", () => {
    for (const [id, r] of Object.entries(R)) {
      assert.ok(r.Type in PRICED, `${id} is a ${r.Type}: price it in this list and in docs/deploy.md`);
    }
  });

  test("no provisioned capacity sneaks in through a property", () => {
    const all = text(R);
    for (const hourly of [
      "ProvisionedConcurrencyConfig",
      "ProvisionedThroughput",
      'CacheClusterEnabled":true',
    ]) {
      assert.ok(!all.includes(hourly), hourly);
    }
    for (const type of [
      "AWS::EC2::NatGateway",
      "AWS::EC2::VPCEndpoint",
      "AWS::RDS::DBInstance",
      "AWS::KMS::Key",
    ]) {
      assert.ok(!(type in PRICED));
    }
  });
});
