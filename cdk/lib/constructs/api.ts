/**
 * The HTTP API: every route of docs/openapi.json but the streaming ones, each to the
 * function its first tag names, each through `auth-check` (simple responses, no
 * identity source so that anonymous requests reach the functions, no caching since a
 * decision depends on the route). One named stage, `api`, so that behind CloudFront the
 * URLs keep AI Maker's `…/api/create-chat` shape; the functions drop the stage prefix.
 */
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import type { Route } from "../contracts.js";

/** The HTTP API's one stage: the path prefix its URLs start with. */
export const API_STAGE = "api";

/**
 * What an access log line holds: who, when, which route (its template, since paths hold
 * share and invite codes, which are secrets), the outcome and the times. Never a body,
 * a header or a query string.
 */
export const HTTP_ACCESS_LOG = JSON.stringify({
  requestId: "$context.requestId",
  ip: "$context.identity.sourceIp",
  time: "$context.requestTimeEpoch",
  routeKey: "$context.routeKey",
  status: "$context.status",
  responseLength: "$context.responseLength",
  latencyMs: "$context.responseLatency",
  integrationLatencyMs: "$context.integrationLatency",
  integrationStatus: "$context.integrationStatus",
  authorizerError: "$context.authorizer.error",
});

export interface ApiProps {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export class Api extends Construct {
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    // No CORS configuration: the web app calls the API on its own origin, through
    // CloudFront; the functions answer other allowed origins (CORS_ORIGINS) themselves.
    this.httpApi = new apigw.HttpApi(this, "Http", { createDefaultStage: false });

    const logGroup = new logs.LogGroup(this, "AccessLogs", {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new apigw.HttpStage(this, "Stage", {
      httpApi: this.httpApi,
      stageName: API_STAGE,
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit, burstLimit: props.burstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(logGroup),
        format: AccessLogFormat.custom(HTTP_ACCESS_LOG),
      },
    });
  }

  /**
   * Adds `routes`, each to its function, all through `authorizer`. Separate from the
   * constructor: the functions need the site's URL, and the site needs this API's id.
   */
  route(routes: Route[], fn: (name: string) => lambda.IFunction, authorizerFn: lambda.IFunction): void {
    const authorizer = new HttpLambdaAuthorizer("AuthCheck", authorizerFn, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: [],
      resultsCacheTtl: Duration.seconds(0),
    });
    const integrations = new Map<string, HttpLambdaIntegration>();
    for (const route of routes) {
      let integration = integrations.get(route.fn);
      if (integration === undefined) {
        // Payload 2.0. 29 s, the most CDK allows: above the model's 28 s deadline.
        integration = new HttpLambdaIntegration(`${route.fn}-integration`, fn(route.fn), {
          timeout: Duration.seconds(29),
        });
        integrations.set(route.fn, integration);
      }
      this.httpApi.addRoutes({
        path: route.path,
        methods: [route.method as apigw.HttpMethod],
        integration,
        authorizer,
      });
    }
    // CDK writes the empty list; leaving the property out is the documented "none".
    for (const c of this.httpApi.node.findAll()) {
      if (c instanceof apigw.CfnAuthorizer) c.addPropertyDeletionOverride("IdentitySource");
    }
  }
}
