/** The table, the buckets and what it all costs. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { tableShape } from "../../lib/contracts.js";
import { type Resource, resourcesOf } from "../synth.js";
import { ref, type Synthesized, text } from "./helpers.js";

export function data({ json }: Synthesized): void {
  const R = json.Resources;
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
}
