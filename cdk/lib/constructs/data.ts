/**
 * What Parley stores: the DynamoDB table shaped exactly as `parley bootstrap` makes it
 * (read from docs/dynamodb-table.json), the bots bucket (configs and persona files),
 * the two secrets the functions read at start, and the bucket of access logs.
 * The table and the bots bucket hold users' data: they are retained when the stack is
 * deleted, and the table cannot be deleted while its deletion protection is on.
 */
import { Duration, RemovalPolicy, SecretValue, Stack } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as secrets from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import type { TableShape } from "../contracts.js";
import { acknowledge } from "../nag.js";

export interface DataProps {
  readonly table: TableShape;
}

/** CloudFormation's PascalCase property names as the L1 constructs' camelCase. */
function camelKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), camelKeys(v)]),
  );
}

export class Data extends Construct {
  readonly table: dynamodb.CfnTable;
  /** The table's ARN and its indexes' ARNs: what a function may address. */
  readonly tableArns: string[];
  readonly bucket: s3.Bucket;
  /** S3 server access logs and CloudFront's standard logs (request lines, never bodies). */
  readonly logBucket: s3.Bucket;
  /** `{"OPENAI_API_KEY": "", "GEMINI_API_KEY": ""}`: the owner fills it in. */
  readonly providerKeys: secrets.Secret;
  /** `{"PARLEY_GUEST_KEY": "<random>"}`: signs guest tokens. */
  readonly guestKey: secrets.Secret;

  constructor(scope: Construct, id: string, props: DataProps) {
    super(scope, id);

    this.table = new dynamodb.CfnTable(this, "Table", {
      ...(camelKeys(props.table) as dynamodb.CfnTableProps),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtectionEnabled: true,
    });
    this.table.applyRemovalPolicy(RemovalPolicy.RETAIN);
    const stack = Stack.of(this);
    const tableArn = stack.formatArn({
      service: "dynamodb",
      resource: "table",
      resourceName: this.table.ref,
    });
    this.tableArns = [
      tableArn,
      ...(props.table.GlobalSecondaryIndexes ?? []).map((i) => `${tableArn}/index/${i.IndexName}`),
    ];

    this.logBucket = new s3.Bucket(this, "Logs", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront's standard logs are delivered with an ACL, so ACLs stay enabled here.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    this.bucket = new s3.Bucket(this, "Bots", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: "bots-bucket/",
      // Old versions of a rewritten config or persona are kept 30 days, then cost nothing.
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.providerKeys = new secrets.Secret(this, "ProviderKeys", {
      description:
        "Parley's model provider keys (OPENAI_API_KEY, GEMINI_API_KEY); empty means the offline model",
      secretObjectValue: {
        OPENAI_API_KEY: SecretValue.unsafePlainText(""),
        GEMINI_API_KEY: SecretValue.unsafePlainText(""),
      },
    });
    this.guestKey = new secrets.Secret(this, "GuestKey", {
      description: "Parley's guest token signing key (PARLEY_GUEST_KEY)",
      generateSecretString: {
        secretStringTemplate: "{}",
        generateStringKey: "PARLEY_GUEST_KEY",
        passwordLength: 64,
        excludePunctuation: true,
      },
    });
    for (const secret of [this.providerKeys, this.guestKey]) {
      acknowledge(secret, [
        {
          id: "AwsSolutions-SMG4",
          reason:
            "No rotation Lambda: provider keys are issued and rotated at the provider (then put-secret-value), " +
            "and rotating the guest key would sign every guest out; both are rotated by hand when needed.",
        },
      ]);
    }
  }
}
