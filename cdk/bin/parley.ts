/**
 * The CDK app: one env-agnostic stack, `Parley`, so `cdk synth` needs no credentials and
 * no network. cdk-nag's AwsSolutions checks run on every synthesis; a finding without a
 * suppression (each with its reason) fails it.
 */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { routes, tableShape } from "../lib/contracts.js";
import { ParleyStack } from "../lib/parley-stack.js";
import { readSettings } from "../lib/settings.js";

const app = new App();
new ParleyStack(app, "Parley", {
  description: "Parley: shareable AI bots (see the repository's README)",
  settings: readSettings(app.node),
  routes: routes(),
  table: tableShape(),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
