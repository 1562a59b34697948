/**
 * Who may sign in: the Cognito user pool (email sign-in, strong passwords, optional
 * TOTP), the web app's client (authorization code + PKCE, no secret), the managed login
 * domain and the groups Parley reads (`admin`, the tiers, the creators group if any).
 */
import { Aws, Duration, RemovalPolicy } from "aws-cdk-lib";
import * as cognito from "aws-cdk-lib/aws-cognito";
import { Construct } from "constructs";
import { acknowledge } from "../nag.js";

/** The groups Parley reads from `cognito:groups`. */
export const GROUPS = ["admin", "tier-pro", "tier-unlimited"] as const;

/**
 * Where a local web app (`make run`) signs in, when `localCallback` is set. Cognito takes
 * plain HTTP for `localhost` only (not 127.0.0.1), which the local server also answers.
 */
export const LOCAL_ORIGIN = "http://localhost:8787";

/** The managed login's host name for a domain prefix, in the stack's region. */
export function loginDomain(prefix: string): string {
  return `${prefix}.auth.${Aws.REGION}.amazoncognito.com`;
}

export interface AuthProps {
  /** `https://…`: the site, where the web app's callback and sign-out pages are. */
  readonly siteUrl: string;
  readonly selfSignUp: boolean;
  readonly localCallback: boolean;
  readonly creatorsGroup?: string;
  /** The managed login domain's prefix (`<prefix>.auth.<region>.amazoncognito.com`). */
  readonly domainPrefix: string;
}

export class Auth extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;

  constructor(scope: Construct, id: string, props: AuthProps) {
    super(scope, id);

    this.userPool = new cognito.UserPool(this, "Users", {
      signInAliases: { email: true },
      autoVerify: { email: true },
      selfSignUpEnabled: props.selfSignUp,
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      // Essentials: managed login; the first 10,000 monthly active users cost nothing.
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.userPool, [
      {
        id: "AwsSolutions-COG2",
        reason:
          "MFA is optional by design (TOTP offered to every user): guests and friends sign up in a minute.",
      },
      {
        id: "AwsSolutions-COG8",
        reason:
          "Threat protection needs the Plus feature plan, billed per active user; Essentials is enough here.",
      },
    ]);

    const callbacks = [`${props.siteUrl}/auth/callback`];
    const signOuts = [`${props.siteUrl}/`];
    if (props.localCallback) {
      callbacks.push(`${LOCAL_ORIGIN}/auth/callback`);
      signOuts.push(`${LOCAL_ORIGIN}/`);
    }
    this.client = this.userPool.addClient("Web", {
      // A browser app cannot keep a secret: authorization code with PKCE instead.
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: callbacks,
        logoutUrls: signOuts,
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
    });

    this.userPool.addDomain("Login", {
      cognitoDomain: { domainPrefix: props.domainPrefix },
      managedLoginVersion: cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
    });
    new cognito.CfnManagedLoginBranding(this, "LoginStyle", {
      userPoolId: this.userPool.userPoolId,
      clientId: this.client.userPoolClientId,
      useCognitoProvidedValues: true,
    });

    const groups: string[] = [...GROUPS];
    if (props.creatorsGroup !== undefined && !groups.includes(props.creatorsGroup)) {
      groups.push(props.creatorsGroup);
    }
    for (const name of groups) {
      new cognito.CfnUserPoolGroup(this, `Group-${name}`, {
        userPoolId: this.userPool.userPoolId,
        groupName: name,
      });
    }
  }
}
