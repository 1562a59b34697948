/**
 * The site: one CloudFront distribution in front of the web app (a private bucket read
 * through origin access control, extension-less paths served /index.html by a CloudFront
 * Function), `/api/*` (the HTTP API) and `/stream/*` (the REST API), HTTPS only, with
 * security headers. The distribution knows the APIs by id only, so the functions can
 * take the site's URL without a dependency cycle. Requests to the APIs carry the viewer's
 * address, written by a CloudFront Function, and the distribution's key, which makes
 * the functions believe it.
 */
import { join } from "node:path";
import { Aws, Duration, Fn, RemovalPolicy } from "aws-cdk-lib";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as s3deploy from "aws-cdk-lib/aws-s3-deployment";
import { Construct } from "constructs";
import { acknowledge } from "../nag.js";

/** The web app's routes: everything the other behaviours do not take. */
export const API_PATH = "/api/*";
export const STREAM_PATH = "/stream/*";
/** What the web app reads at start (web/src/config.ts). */
export const CONFIG_FILE = "config.json";
/** The headers of crates/parley-runtime/src/context.rs (`EdgeTrust`): the distribution's key… */
export const EDGE_KEY_HEADER = "x-parley-edge-key";
/** …and the viewer's address, which the functions believe only beside that key. */
export const VIEWER_ADDRESS_HEADER = "x-parley-viewer-address";

/**
 * The distribution's key (`PARLEY_EDGE_KEY` of the six HTTP functions, sent to both API
 * origins in `x-parley-edge-key`): the UUID at the end of the stack's id, 36 characters
 * that are stable across deployments and unknown outside the account (a random value
 * made at synthesis would change the template every time). It is not in Secrets
 * Manager: it grants only the right to name a client's address for the per-address
 * limits, and CloudFront keeps origin custom headers in plain text in the distribution's
 * configuration anyway, so a secret would hide nothing and cost $0.40 a month.
 */
export function edgeKey(): string {
  return Fn.select(2, Fn.split("/", Aws.STACK_ID));
}

export interface SiteProps {
  readonly httpApiId: string;
  readonly restApiId: string;
  readonly logBucket: s3.IBucket;
  /** The managed login's host name: the web app fetches its token endpoint. */
  readonly loginDomain: string;
  /** What the API origins send in `x-parley-edge-key` ({@link edgeKey}). */
  readonly edgeKey: string;
}

/** `<id>.execute-api.<region>.amazonaws.com`, built from the id alone. */
function executeApiDomain(apiId: string): string {
  return `${apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`;
}

export class Site extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** `https://<id>.cloudfront.net`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: SiteProps) {
    super(scope, id);

    // The built web app only: it is rebuilt by every deployment, so it goes with the stack.
    this.bucket = new s3.Bucket(this, "Web", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.logBucket,
      serverAccessLogsPrefix: "web-bucket/",
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    const spaFallback = new cloudfront.Function(this, "SpaFallback", {
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromFile({
        filePath: join(import.meta.dirname, "..", "spa-fallback.js"),
      }),
      comment: "Paths without a file extension are routes of the web app: /index.html",
    });
    const viewerAddress = new cloudfront.Function(this, "ViewerAddress", {
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromFile({
        filePath: join(import.meta.dirname, "..", "viewer-address.js"),
      }),
      comment: `The viewer's address in ${VIEWER_ADDRESS_HEADER}, over whatever the client sent`,
    });

    const apiBehaviour = (origin: cloudfront.IOrigin): cloudfront.BehaviorOptions => ({
      origin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      // Nothing is cached, and every viewer header but Host reaches the API (with
      // caching off, Authorization may travel in the origin request policy).
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
      compress: false,
      // A header the function adds is part of the viewer request, so the policy above
      // forwards it like the client's own.
      functionAssociations: [
        { function: viewerAddress, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
      ],
    });
    const apiOrigin = (apiId: string, readTimeout: Duration) =>
      new origins.HttpOrigin(executeApiDomain(apiId), {
        protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
        originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
        readTimeout,
        // Replaces any header of that name the client sent.
        customHeaders: { [EDGE_KEY_HEADER]: props.edgeKey },
      });

    this.distribution = new cloudfront.Distribution(this, "Cdn", {
      comment: "Parley",
      defaultRootObject: "index.html",
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      // North America and Europe edges only: the cheapest price class.
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: props.logBucket,
      logFilePrefix: "cloudfront/",
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.siteHeaders(props.loginDomain),
        functionAssociations: [
          { function: spaFallback, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
        ],
      },
      additionalBehaviors: {
        // The HTTP API answers within 30 s (its integration limit).
        [API_PATH]: apiBehaviour(apiOrigin(props.httpApiId, Duration.seconds(35))),
        // Between two bytes of a stream: a heartbeat comes at least every 15 s.
        [STREAM_PATH]: apiBehaviour(apiOrigin(props.restApiId, Duration.seconds(30))),
      },
    });
    this.url = `https://${this.distribution.distributionDomainName}`;

    acknowledge(this.distribution, [
      {
        id: "AwsSolutions-CFR1",
        reason: "Parley is meant to be shared with anyone: no geographic restriction.",
      },
      {
        id: "AwsSolutions-CFR2",
        reason:
          "No WAF: a web ACL bills monthly even when idle; API throttling and the app's limits guard it.",
      },
      {
        id: "AwsSolutions-CFR4",
        reason:
          "The default *.cloudfront.net certificate is used (no custom domain), with which CloudFront does not " +
          "let the minimum viewer TLS version be set; the origins are reached with TLS 1.2 only.",
      },
    ]);
  }

  /**
   * Uploads the built web app and `/config.json`. Hashed files under `assets/` are kept
   * a year and never pruned (an open tab may still load an old chunk); everything else,
   * `index.html` and `config.json` among them, is revalidated on every load and the
   * distribution's cache is invalidated, so a deployment shows at once.
   */
  deploy(webDir: string, config: Record<string, unknown>): void {
    const assets = new s3deploy.BucketDeployment(this, "Assets", {
      sources: [s3deploy.Source.asset(join(webDir, "assets"))],
      destinationBucket: this.bucket,
      destinationKeyPrefix: "assets/",
      prune: false,
      cacheControl: [s3deploy.CacheControl.fromString("public, max-age=31536000, immutable")],
    });
    const pages = new s3deploy.BucketDeployment(this, "Pages", {
      sources: [
        s3deploy.Source.asset(webDir, { exclude: ["assets", "assets/**"] }),
        s3deploy.Source.jsonData(CONFIG_FILE, config),
      ],
      destinationBucket: this.bucket,
      exclude: ["assets/*"],
      cacheControl: [s3deploy.CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ["/*"],
    });
    // The new index.html only once the files it names are there.
    pages.node.addDependency(assets);
  }

  /** Security headers for the web app's pages, the cloud twin of the local server's. */
  private siteHeaders(loginDomain: string): cloudfront.ResponseHeadersPolicy {
    return new cloudfront.ResponseHeadersPolicy(this, "SiteHeaders", {
      comment: "Parley web app: CSP without inline scripts, no framing, no referrer, HSTS",
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: contentSecurityPolicy(loginDomain), override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          override: true,
        },
      },
    });
  }
}

/**
 * The local server's policy (crates/parley-local/src/web.rs), plus the managed login's
 * token endpoint, which the web app fetches to exchange its code (PKCE).
 */
export function contentSecurityPolicy(loginDomain: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    `connect-src 'self' https://${loginDomain}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}
