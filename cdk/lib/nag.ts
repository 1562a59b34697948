/**
 * cdk-nag findings acknowledged, each with its reason. cdk-nag 3 reports through CDK's
 * validation plugins: an acknowledgement on a construct covers its children, and a rule
 * with several findings (IAM5) is acknowledged one finding at a time, `Rule[finding]`.
 */
import { type CfnElement, type Stack, Validations } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

/** A finding acknowledged, and why. */
export interface Acknowledged {
  readonly id: string;
  readonly reason: string;
}

/**
 * Context key that turns acknowledging off, for the test that checks that every
 * acknowledgement still answers a finding (none outlives what it excused).
 */
export const RAW_FINDINGS = "nagRawFindings";

export function acknowledge(scope: IConstruct, rules: Acknowledged[]): void {
  if (scope.node.tryGetContext(RAW_FINDINGS) === "true") return;
  // A validation plugin's rules are named `<plugin>::<rule>` (without it, CDK would
  // take the id for one of its own annotations).
  Validations.of(scope).acknowledge(...rules.map((r) => ({ ...r, id: `AwsSolutions::${r.id}` })));
}

/** The prefix of the id of CDK's BucketDeployment helper, a singleton at the stack's top. */
const BUCKET_DEPLOYMENT = "Custom::CDKBucketDeployment";

/**
 * What CDK itself adds to the stack: the Lambda function and role of BucketDeployment,
 * which copies the web app into its bucket during a deployment. Its grants are CDK's.
 */
export function acknowledgeBucketDeployment(stack: Stack, webBucket: CfnElement): void {
  const web = stack.resolve(webBucket.logicalId);
  const why = (what: string) => `CDK's BucketDeployment helper (runs only while deploying): ${what}`;
  const copies = why("it copies whole prefixes from the asset bucket into the web bucket and prunes it.");
  for (const helper of stack.node.children.filter((c) => c.node.id.startsWith(BUCKET_DEPLOYMENT))) {
    acknowledge(helper, [
      {
        id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        reason: why("AWS's basic execution policy for its own logs."),
      },
      ...["s3:GetObject*", "s3:GetBucket*", "s3:List*", "s3:DeleteObject*", "s3:Abort*"].map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: copies,
      })),
      {
        id: "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]",
        reason: why("it reads the web app's zip from CDK's asset bucket, whose keys are content hashes."),
      },
      { id: `AwsSolutions-IAM5[Resource::<${web}.Arn>/*]`, reason: copies },
      { id: "AwsSolutions-L1", reason: why("CDK pins its Python runtime; it is not Parley's code.") },
      {
        id: "AwsSolutions-IAM5[Resource::*]",
        reason: why(
          "cloudfront:CreateInvalidation and GetInvalidation, which CDK grants on * for the distribution.",
        ),
      },
    ]);
  }
}
