/** The two APIs: every route of docs/openapi.json to its function, through auth-check. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { API_STAGE } from "../../lib/constructs/api.js";
import { STREAM_STAGE } from "../../lib/constructs/stream-api.js";
import { AUTHORIZER_FUNCTION, routes, STREAM_FUNCTION } from "../../lib/contracts.js";
import { functionId, resourcesOf } from "../synth.js";
import { arnOf, modelDeadlineMs, ref, type Synthesized, text } from "./helpers.js";

/** A REST API resource's full path, from its chain of parents. */
function restPath(R: Synthesized["json"]["Resources"], id: string): string {
  const props = R[id].Properties ?? {};
  const parent = props.ParentId;
  const above = parent && "Ref" in parent ? restPath(R, parent.Ref) : "";
  return `${above}/${props.PathPart}`;
}

export function apis({ json }: Synthesized): void {
  const R = json.Resources;
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
        ([, m]) => `${m.Properties?.HttpMethod} ${restPath(R, m.Properties?.ResourceId.Ref)}`,
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
}
