/**
 * The seven Lambda functions from the zips of `scripts/package.sh --arm64`, each with
 * its own role reaching only what it uses, its log group and its environment. Secret
 * keys are never in the environment: `PARLEY_SECRETS` lists the secrets a function reads
 * once at cold start (secretsmanager:GetSecretValue) and keeps for the instance's life.
 * (`PARLEY_EDGE_KEY` is there, but it is no secret: see `edgeKey` in site.ts.)
 */
import { join } from "node:path";
import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import type * as cognito from "aws-cdk-lib/aws-cognito";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { AUTHORIZER_FUNCTION } from "../contracts.js";
import { acknowledge } from "../nag.js";
import type { Data } from "./data.js";

/** How a function is sized, and why. */
interface Sizing {
  readonly memoryMb: number;
  readonly timeout: Duration;
}

/**
 * The functions are Rust binaries that peak at 10-15 MB RSS (bench/REPORT.md), so memory
 * buys CPU, not room: 256 MB makes TLS handshakes at cold start quick and still costs
 * half a cent per thousand seconds. Timeouts follow what a function waits for.
 */
const SIZING: Record<string, Sizing> = {
  // DynamoDB and S3 only: a few calls, well under a second even cold.
  "create-chat": { memoryMb: 256, timeout: Duration.seconds(10) },
  "chat-session": { memoryMb: 256, timeout: Duration.seconds(10) },
  "chat-room": { memoryMb: 256, timeout: Duration.seconds(10) },
  // A profile PDF is extracted in a worker with its own 256 MB (PARLEY_PDF_MEMORY_MB,
  // one at a time: PARLEY_PDF_MAX_CONCURRENT=1, as an instance serves one request) on
  // top of the function's own: 512 MB. The worker has 10 s, the queue 2 s.
  "chat-config": { memoryMb: 512, timeout: Duration.seconds(20) },
  // The model deadline is 28 s (PARLEY_LLM_DEADLINE_MS); after it the reply is still
  // stored even when the HTTP API (30 s at most) has answered the client already.
  "session-message": { memoryMb: 256, timeout: Duration.seconds(35) },
  // A streamed send lasts up to the model deadline; following another writer's reply
  // (GET …/stream) lasts until it ends or its 30 s lease runs out: 90 s covers both.
  "session-stream": { memoryMb: 256, timeout: Duration.seconds(90) },
  // Verifies a JWT against cached keys and asks Cognito about the user at most once a
  // minute; 256 MB keeps the RS256 check and the JWKS fetch quick.
  [AUTHORIZER_FUNCTION]: { memoryMb: 256, timeout: Duration.seconds(10) },
};

/** The functions that write bot configs and persona files (S3); the rest only read them. */
const BOT_WRITERS: Record<string, string[]> = {
  "create-chat": ["s3:PutObject", "s3:DeleteObject"],
  "chat-config": ["s3:PutObject", "s3:DeleteObject"],
};

/** What the HTTP functions do to the table (transactions need the per-item actions). */
const TABLE_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:BatchGetItem",
  "dynamodb:Query",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:ConditionCheckItem",
];

/** Where bot configs and persona files live in the bucket (`bots/{id}/…`). */
const BOTS_PREFIX = "bots/";

export interface FunctionsProps {
  readonly names: string[];
  readonly lambdaDir: string;
  readonly data: Data;
  readonly userPool: cognito.IUserPool;
  readonly clientId: string;
  /** `https://…`, the site: share links point there, and it is the one CORS origin. */
  readonly siteUrl: string;
  readonly creatorsGroup?: string;
  readonly models?: string;
  /** `PARLEY_EDGE_KEY` of the six HTTP functions: the distribution's key (site.ts, `edgeKey`). */
  readonly edgeKey: string;
}

export class Functions extends Construct {
  readonly byName: ReadonlyMap<string, lambda.Function>;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const byName = new Map<string, lambda.Function>();
    for (const name of props.names) {
      byName.set(name, this.function(name, props));
    }
    this.byName = byName;
  }

  /** The function called `name`; throws when the API names one this app does not make. */
  get(name: string): lambda.Function {
    const fn = this.byName.get(name);
    if (fn === undefined) throw new Error(`no function is named ${name}`);
    return fn;
  }

  private function(name: string, props: FunctionsProps): lambda.Function {
    const sizing = SIZING[name];
    if (sizing === undefined) throw new Error(`${name} has no memory and timeout chosen in SIZING`);
    const { data } = props;
    const isAuthorizer = name === AUTHORIZER_FUNCTION;

    // One role per function, without AWS's managed policies: only the statements below.
    const role = new iam.Role(this, `${name}-role`, {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `Parley ${name}`,
    });
    const logGroup = new logs.LogGroup(this, `${name}-logs`, {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    logGroup.grantWrite(role);

    const secretsRead = isAuthorizer ? [data.guestKey] : [data.providerKeys, data.guestKey];
    const environment: Record<string, string> = {
      PARLEY_SECRETS: secretsRead.map((s) => s.secretArn).join(","),
    };
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: ["secretsmanager:GetSecretValue"],
      resourceArns: secretsRead.map((s) => s.secretArn),
    });

    if (isAuthorizer) {
      environment.COGNITO_USER_POOL_ID = props.userPool.userPoolId;
      environment.COGNITO_CLIENT_ID = props.clientId;
      // GetUser (access tokens) needs no permission; AdminGetUser (ID tokens) does.
      props.userPool.grant(role, "cognito-idp:AdminGetUser");
    } else {
      Object.assign(environment, {
        PARLEY_TABLE: data.table.ref,
        PARLEY_BUCKET: data.bucket.bucketName,
        PARLEY_PUBLIC_URL: props.siteUrl,
        CORS_ORIGINS: props.siteUrl,
        // Requests through the site count by the viewer's address (see Site), never auth-check's concern.
        PARLEY_EDGE_KEY: props.edgeKey,
      });
      if (props.creatorsGroup !== undefined) environment.PARLEY_CREATORS_GROUP = props.creatorsGroup;
      if (props.models !== undefined) environment.PARLEY_MODELS = props.models;
      if (name === "chat-config") environment.PARLEY_PDF_MAX_CONCURRENT = "1";
      iam.Grant.addToPrincipal({ grantee: role, actions: TABLE_ACTIONS, resourceArns: data.tableArns });
      const objects = data.bucket.arnForObjects(`${BOTS_PREFIX}*`);
      const bucketId = Stack.of(this).resolve((data.bucket.node.defaultChild as s3.CfnBucket).logicalId);
      iam.Grant.addToPrincipal({
        grantee: role,
        actions: ["s3:GetObject", ...(BOT_WRITERS[name] ?? [])],
        resourceArns: [objects],
      });
      // Without ListBucket a missing object reads as 403, not NoSuchKey, and a missing bot
      // would be an error. Unconditioned: whether S3 applies an s3:prefix condition to that
      // implicit check is not documented, and the bucket holds nothing but bots/.
      iam.Grant.addToPrincipal({
        grantee: role,
        actions: ["s3:ListBucket"],
        resourceArns: [data.bucket.bucketArn],
      });
      acknowledge(role, [
        {
          id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${BOTS_PREFIX}*]`,
          reason:
            "Object keys are made at run time (bots/{botId}/config.json, bots/{botId}/persona/…): the " +
            "statement is limited to the bots/ prefix of the one bucket, which S3 can only express with *.",
        },
      ]);
    }

    return new lambda.Function(this, name, {
      description: `Parley ${name}`,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: lambda.Architecture.ARM_64,
      handler: "bootstrap",
      code: lambda.Code.fromAsset(join(props.lambdaDir, name, "bootstrap.zip")),
      memorySize: sizing.memoryMb,
      timeout: sizing.timeout,
      role,
      logGroup,
      environment,
      // Traces and the Lambda Insights extension are left off: both bill per use and
      // the JSON request log carries route, status and latency.
      tracing: lambda.Tracing.DISABLED,
    });
  }
}
