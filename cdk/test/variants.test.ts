/** What the deployment's choices (CDK context) change in the template. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { functionId, resourcesOf, synth } from "./synth.js";

describe("a deployment with every choice turned", () => {
  const { json } = synth({
    selfSignUp: "false",
    localCallback: "true",
    creatorsGroup: "creators",
    domainPrefix: "parley-test",
    models: "offline:parley-offline",
    rateLimit: "7",
    burstLimit: "9",
  });
  const text = (value: unknown) => JSON.stringify(value);

  test("sign-up is by invitation only", () => {
    const [, pool] = resourcesOf(json, "AWS::Cognito::UserPool")[0];
    assert.equal(pool.Properties?.AdminCreateUserConfig.AllowAdminCreateUserOnly, true);
  });

  test("the local web app may sign in too", () => {
    const [, client] = resourcesOf(json, "AWS::Cognito::UserPoolClient")[0];
    assert.ok(client.Properties?.CallbackURLs.includes("http://localhost:8787/auth/callback"));
    assert.ok(client.Properties?.LogoutURLs.includes("http://localhost:8787/"));
  });

  test("the creators group exists and the functions know it", () => {
    const groups = resourcesOf(json, "AWS::Cognito::UserPoolGroup").map(([, g]) => g.Properties?.GroupName);
    assert.ok(groups.includes("creators"));
    const env = json.Resources[functionId(json, "create-chat")].Properties?.Environment.Variables;
    assert.equal(env.PARLEY_CREATORS_GROUP, "creators");
    assert.equal(env.PARLEY_MODELS, "offline:parley-offline");
  });

  test("the login domain and the throttles are the chosen ones", () => {
    const [, domain] = resourcesOf(json, "AWS::Cognito::UserPoolDomain")[0];
    assert.equal(domain.Properties?.Domain, "parley-test");
    const [, stage] = resourcesOf(json, "AWS::ApiGatewayV2::Stage")[0];
    assert.equal(stage.Properties?.DefaultRouteSettings.ThrottlingRateLimit, 7);
    assert.equal(stage.Properties?.DefaultRouteSettings.ThrottlingBurstLimit, 9);
    assert.match(text(json.Resources), /parley-test\.auth\./);
  });
});
