/** The site (CloudFront, /config.json) and Cognito. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { API_STAGE } from "../../lib/constructs/api.js";
import { EDGE_KEY_HEADER, VIEWER_ADDRESS_HEADER } from "../../lib/constructs/site.js";
import { STREAM_STAGE } from "../../lib/constructs/stream-api.js";
import { REPO_ROOT } from "../../lib/contracts.js";
import { functionId, resourcesOf } from "../synth.js";
import { ref, type Synthesized, text } from "./helpers.js";

export function site({ json, outdir }: Synthesized): void {
  const R = json.Resources;
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

    /** The CloudFront Function whose code is `file` in cdk/lib. */
    const cloudFrontFunction = (file: string) => {
      const code = readFileSync(join(import.meta.dirname, "..", "..", "lib", file), "utf8");
      const found = resourcesOf(json, "AWS::CloudFront::Function").filter(
        ([, f]) => f.Properties?.FunctionCode === code,
      );
      assert.equal(found.length, 1, `one CloudFront Function runs ${file}`);
      assert.equal(found[0][1].Properties?.FunctionConfig.Runtime, "cloudfront-js-2.0");
      return { "Fn::GetAtt": [found[0][0], "FunctionARN"] };
    };
    const API_PATHS = [`/${API_STAGE}/*`, `/${STREAM_STAGE}/*`];

    test("serves the app from the private bucket with the SPA fallback alone, and no error pages", () => {
      const d = config.DefaultCacheBehavior;
      assert.equal(d.ViewerProtocolPolicy, "redirect-to-https");
      assert.deepEqual(d.FunctionAssociations, [
        { EventType: "viewer-request", FunctionARN: cloudFrontFunction("spa-fallback.js") },
      ]);
      assert.ok(origin(d.TargetOriginId).OriginAccessControlId, "the bucket is read through OAC");
      // Distribution-wide error pages would turn the API's 403/404 problem+json into HTML 200.
      assert.equal(config.CustomErrorResponses, undefined);
      assert.equal(config.DefaultRootObject, "index.html");
    });

    test("names the viewer to both APIs: its address written at the edge, vouched for by the key", () => {
      const viewerAddress = cloudFrontFunction("viewer-address.js");
      assert.equal(config.CacheBehaviors.length, API_PATHS.length);
      const key = R[functionId(json, "session-message")].Properties?.Environment.Variables.PARLEY_EDGE_KEY;
      // The stack's own UUID: stable across deployments, unknown outside the account.
      assert.deepEqual(key, { "Fn::Select": [2, { "Fn::Split": ["/", { Ref: "AWS::StackId" }] }] });
      for (const path of API_PATHS) {
        const b = behaviour(path);
        // The only function of the API behaviours: the SPA fallback would turn a 404 into index.html.
        assert.deepEqual(
          b.FunctionAssociations,
          [{ EventType: "viewer-request", FunctionARN: viewerAddress }],
          path,
        );
        assert.deepEqual(
          origin(b.TargetOriginId).OriginCustomHeaders,
          [{ HeaderName: EDGE_KEY_HEADER, HeaderValue: key }],
          path,
        );
      }
    });

    test("uses the header names the functions read (crates/parley-runtime/src/context.rs)", () => {
      const rust = readFileSync(join(REPO_ROOT, "crates", "parley-runtime", "src", "context.rs"), "utf8");
      const constant = (name: string) => new RegExp(`pub const ${name}: &str = "([^"]+)";`).exec(rust)?.[1];
      assert.equal(constant("EDGE_KEY_HEADER"), EDGE_KEY_HEADER);
      assert.equal(constant("VIEWER_ADDRESS_HEADER"), VIEWER_ADDRESS_HEADER);
      const code = readFileSync(join(import.meta.dirname, "..", "..", "lib", "viewer-address.js"), "utf8");
      assert.ok(code.includes(`request.headers["${VIEWER_ADDRESS_HEADER}"]`), "viewer-address.js writes it");
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
}
