// CloudFront Function (cloudfront-js-2.0), viewer request, on the /api/* and /stream/*
// behaviours only: writes the viewer's address into x-parley-viewer-address, over whatever
// the client sent there. The functions believe it only on requests that also carry the
// distribution's x-parley-edge-key (an origin custom header), so it names the client for
// the per-address limits (crates/parley-runtime/src/context.rs, EdgeTrust).
// biome-ignore lint/correctness/noUnusedVariables: CloudFront calls the function named handler.
function handler(event) {
  var request = event.request;
  request.headers["x-parley-viewer-address"] = { value: event.viewer.ip };
  return request;
}
