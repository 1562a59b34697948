/**
 * The REST API of the streaming routes (HTTP APIs cannot stream): each a Lambda proxy
 * integration of `session-stream` with response streaming, behind `auth-check` as a
 * REQUEST authorizer without identity source or caching, like the HTTP API's.
 */
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import type { Route } from "../contracts.js";
import { acknowledge } from "../nag.js";

/** The REST API's stage: the path prefix its URLs start with, behind CloudFront too. */
export const STREAM_STAGE = "stream";

/**
 * API Gateway waits this long for a streamed answer: above the model's 28 s deadline
 * (PARLEY_LLM_DEADLINE_MS) and equal to session-stream's own timeout. A streaming
 * integration may take up to 15 minutes without a quota increase.
 */
export const STREAM_TIMEOUT = Duration.seconds(90);

/** As the HTTP API's access log: the resource template, never the path (it holds codes). */
export const REST_ACCESS_LOG = JSON.stringify({
  requestId: "$context.requestId",
  ip: "$context.identity.sourceIp",
  time: "$context.requestTimeEpoch",
  method: "$context.httpMethod",
  resourcePath: "$context.resourcePath",
  status: "$context.status",
  responseLength: "$context.responseLength",
  latencyMs: "$context.responseLatency",
  integrationLatencyMs: "$context.integration.latency",
  authorizerError: "$context.authorizer.error",
});

export interface StreamApiProps {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export class StreamApi extends Construct {
  readonly restApi: apigw.RestApi;

  constructor(scope: Construct, id: string, props: StreamApiProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, "AccessLogs", {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.restApi = new apigw.RestApi(this, "Rest", {
      description: "Parley's streaming routes (server-sent events)",
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      // REST API logs to CloudWatch go through the account's API Gateway role.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: STREAM_STAGE,
        throttlingRateLimit: props.rateLimit,
        throttlingBurstLimit: props.burstLimit,
        accessLogDestination: new apigw.LogGroupLogDestination(logGroup),
        accessLogFormat: apigw.AccessLogFormat.custom(REST_ACCESS_LOG),
        // Execution logs at ERROR only, never with request or response data.
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: false,
      },
    });
  }

  /** Adds the streaming `routes` on `handler`, through `authorizerFn`; see Api.route. */
  route(routes: Route[], handler: lambda.IFunction, authorizerFn: lambda.IFunction): void {
    const authorizer = new apigw.RequestAuthorizer(this, "AuthCheck", {
      handler: authorizerFn,
      identitySources: [],
      resultsCacheTtl: Duration.seconds(0),
    });
    // CDK writes the empty list as "", which API Gateway need not read as "none": leave it out.
    (authorizer.node.defaultChild as apigw.CfnAuthorizer).addPropertyDeletionOverride("IdentitySource");
    const integration = new apigw.LambdaIntegration(handler, {
      responseTransferMode: apigw.ResponseTransferMode.STREAM,
      timeout: STREAM_TIMEOUT,
      allowTestInvoke: false,
    });
    for (const route of routes) {
      this.restApi.root.resourceForPath(route.path).addMethod(route.method, integration, {
        authorizer,
        authorizationType: apigw.AuthorizationType.CUSTOM,
      });
    }
    acknowledge(this.restApi, [
      {
        id: "AwsSolutions-APIG2",
        reason: "Lambda proxy routes: session-stream validates every request and answers problem+json.",
      },
      {
        id: "AwsSolutions-APIG3",
        reason:
          "No WAF: a web ACL bills monthly even when idle; stage throttling and the app's limits guard it.",
      },
      {
        id: "AwsSolutions-COG4",
        reason: "auth-check verifies the Cognito tokens itself (and guest tokens, which Cognito cannot).",
      },
      {
        id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
        reason:
          "The account's API Gateway logging role (cloudWatchRole) uses AWS's own " +
          "AmazonAPIGatewayPushToCloudWatchLogs policy, which API Gateway expects.",
      },
    ]);
  }
}
