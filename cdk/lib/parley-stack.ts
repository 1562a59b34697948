/**
 * Parley on AWS: the stack only wires the constructs together (see lib/constructs/).
 * Dependencies run one way: the distribution knows the APIs by id; the functions, the
 * Cognito client and /config.json know the distribution's URL; the routes come last.
 */
import { Aws, type CfnElement, CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { API_STAGE, Api } from "./constructs/api.js";
import { Auth, loginDomain } from "./constructs/auth.js";
import { Data } from "./constructs/data.js";
import { Functions } from "./constructs/functions.js";
import { edgeKey, Site } from "./constructs/site.js";
import { STREAM_STAGE, StreamApi } from "./constructs/stream-api.js";
import {
  AUTHORIZER_FUNCTION,
  functionNames,
  type Route,
  STREAM_FUNCTION,
  type TableShape,
} from "./contracts.js";
import { acknowledgeBucketDeployment } from "./nag.js";
import type { Settings } from "./settings.js";

export interface ParleyStackProps extends StackProps {
  readonly settings: Settings;
  readonly routes: Route[];
  readonly table: TableShape;
}

export class ParleyStack extends Stack {
  constructor(scope: Construct, id: string, props: ParleyStackProps) {
    super(scope, id, props);
    const { settings, routes } = props;

    const data = new Data(this, "Data", { table: props.table });
    const throttle = { rateLimit: settings.rateLimit, burstLimit: settings.burstLimit };
    const api = new Api(this, "Api", throttle);
    const streamApi = new StreamApi(this, "StreamApi", throttle);
    const domainPrefix = settings.domainPrefix ?? `parley-${Aws.ACCOUNT_ID}`;
    // What makes the functions believe the viewer's address the distribution writes.
    const key = edgeKey();
    const site = new Site(this, "Site", {
      httpApiId: api.httpApi.apiId,
      restApiId: streamApi.restApi.restApiId,
      logBucket: data.logBucket,
      loginDomain: loginDomain(domainPrefix),
      edgeKey: key,
    });

    const auth = new Auth(this, "Auth", {
      siteUrl: site.url,
      selfSignUp: settings.selfSignUp,
      localCallback: settings.localCallback,
      creatorsGroup: settings.creatorsGroup,
      domainPrefix,
    });
    const functions = new Functions(this, "Functions", {
      names: functionNames(routes),
      lambdaDir: settings.lambdaDir,
      data,
      userPool: auth.userPool,
      clientId: auth.client.userPoolClientId,
      siteUrl: site.url,
      creatorsGroup: settings.creatorsGroup,
      models: settings.models,
      edgeKey: key,
    });
    const authorizer = functions.get(AUTHORIZER_FUNCTION);
    api.route(
      routes.filter((r) => r.fn !== STREAM_FUNCTION),
      (name) => functions.get(name),
      authorizer,
    );
    streamApi.route(
      routes.filter((r) => r.fn === STREAM_FUNCTION),
      functions.get(STREAM_FUNCTION),
      authorizer,
    );

    // What web/src/config.ts reads: same-origin API paths, Cognito's managed login.
    site.deploy(settings.webDir, {
      mode: "cloud",
      apiBase: `/${API_STAGE}`,
      streamBase: `/${STREAM_STAGE}`,
      cognito: {
        domain: loginDomain(domainPrefix),
        clientId: auth.client.userPoolClientId,
        region: Aws.REGION,
      },
    });
    acknowledgeBucketDeployment(this, site.bucket.node.defaultChild as CfnElement);

    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output("SiteUrl", site.url, "The web app; share links start with it");
    output("ApiUrl", `${site.url}/${API_STAGE}`, "The HTTP API behind the site (…/api/create-chat)");
    output("StreamUrl", `${site.url}/${STREAM_STAGE}`, "The streaming routes behind the site");
    output("HttpApiUrl", `${api.httpApi.apiEndpoint}/${API_STAGE}`, "The HTTP API's own endpoint");
    output("StreamApiUrl", streamApi.restApi.url, "The REST API's own endpoint (streaming)");
    output("UserPoolId", auth.userPool.userPoolId, "COGNITO_USER_POOL_ID");
    output("UserPoolClientId", auth.client.userPoolClientId, "COGNITO_CLIENT_ID (the web app's client)");
    output("LoginDomain", `https://${loginDomain(domainPrefix)}`, "Cognito's managed login");
    output(
      "MakeAdminCommand",
      `aws cognito-idp admin-add-user-to-group --region ${Aws.REGION} --user-pool-id ${auth.userPool.userPoolId} --group-name admin --username EMAIL`,
      "Makes the user with this email an admin (they sign in again to get the group)",
    );
    output(
      "ProviderKeysSecret",
      data.providerKeys.secretArn,
      "Put OPENAI_API_KEY / GEMINI_API_KEY here (aws secretsmanager put-secret-value)",
    );
  }
}
