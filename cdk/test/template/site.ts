/** The site (CloudFront, /config.json) and Cognito. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { API_STAGE } from "../../lib/constructs/api.js";
import { STREAM_STAGE } from "../../lib/constructs/stream-api.js";
import { resourcesOf } from "../synth.js";
import { ref, type Synthesized, text } from "./helpers.js";

export function site({ json, outdir }: Synthesized): void {
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
}
