// CloudFront Function (cloudfront-js-2.0) on the site's default behaviour only: a path
// without a file extension is a route of the web app (/s/{code}, /bots/new, /auth/callback),
// so it gets /index.html. The /api/* and /stream/* behaviours never run it, so the API's
// 403 and 404 answers stay what they are.
// biome-ignore lint/correctness/noUnusedVariables: CloudFront calls the function named handler.
function handler(event) {
  var request = event.request;
  var last = request.uri.substring(request.uri.lastIndexOf("/") + 1);
  if (last.indexOf(".") === -1) {
    request.uri = "/index.html";
  }
  return request;
}
