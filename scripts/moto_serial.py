"""moto's server, handling one request at a time.

moto's backends take no locks: a DynamoDB TransactWriteItems that is cancelled
restores a deep copy of the whole table taken when it started, wiping every write
that other requests made in the meantime, and a conditional write is a check and a
write that another thread can slip between. AWS serialises conflicting writes; this
makes the emulator do the same, so that tests of conditional writes under contention
test the code and not moto's thread safety. Same command line as `moto_server`.

With PARLEY_EMULATOR_COUNT_REQUESTS=1 it also counts the AWS requests it serves by
operation (`DynamoDB.GetItem`, `S3.GetObject`, …): `GET /_parley/requests` answers the
counts as JSON, `DELETE /_parley/requests` answers them and starts again from zero.
The request-count test and `make bench` use it; without the variable nothing changes.
"""

import collections
import json
import os
import sys
import threading

from moto import server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_lock = threading.Lock()
_dispatch = DomainDispatcherApplication.__call__
_counting = os.environ.get("PARLEY_EMULATOR_COUNT_REQUESTS") == "1"
_counts = collections.Counter()
_COUNTS_PATH = "/_parley/requests"


def _operation(environ):
    """The AWS operation a request calls, as `Service.Operation`."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        service, _, operation = target.partition(".")
        if service.startswith("DynamoDB"):
            service = "DynamoDB"
        elif service.startswith("AWSCognitoIdentityProvider"):
            service = "Cognito"
        return f"{service}.{operation}"
    if "/s3/aws4_request" in environ.get("HTTP_AUTHORIZATION", ""):
        method = environ.get("REQUEST_METHOD", "")
        parts = [p for p in environ.get("PATH_INFO", "").split("/") if p]
        query = environ.get("QUERY_STRING", "")
        if len(parts) >= 2:
            return "S3." + {
                "GET": "GetObject",
                "PUT": "PutObject",
                "HEAD": "HeadObject",
                "DELETE": "DeleteObject",
            }.get(method, method + "Object")
        if method == "POST" and "delete" in query:
            return "S3.DeleteObjects"
        return "S3." + {
            "GET": "ListObjects",
            "PUT": "CreateBucket",
            "HEAD": "HeadBucket",
            "DELETE": "DeleteBucket",
        }.get(method, method + "Bucket")
    return "other." + environ.get("REQUEST_METHOD", "?")


def _answer_counts(environ, start_response):
    with _lock:
        body = json.dumps(dict(_counts), sort_keys=True).encode()
        if environ.get("REQUEST_METHOD") == "DELETE":
            _counts.clear()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _one_at_a_time(self, environ, start_response):
    if _counting:
        if environ.get("PATH_INFO") == _COUNTS_PATH:
            return _answer_counts(environ, start_response)
        with _lock:
            _counts[_operation(environ)] += 1
    with _lock:
        # moto builds whole responses, so the body is complete when this returns.
        return list(_dispatch(self, environ, start_response))


DomainDispatcherApplication.__call__ = _one_at_a_time

if __name__ == "__main__":
    server.main(sys.argv[1:])
