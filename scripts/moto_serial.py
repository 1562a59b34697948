"""moto's server, handling one request at a time.

moto's backends take no locks: a DynamoDB TransactWriteItems that is cancelled
restores a deep copy of the whole table taken when it started, wiping every write
that other requests made in the meantime, and a conditional write is a check and a
write that another thread can slip between. AWS serialises conflicting writes; this
makes the emulator do the same, so that tests of conditional writes under contention
test the code and not moto's thread safety. Same command line as `moto_server`.
"""

import sys
import threading

from moto import server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_lock = threading.Lock()
_dispatch = DomainDispatcherApplication.__call__


def _one_at_a_time(self, environ, start_response):
    with _lock:
        # moto builds whole responses, so the body is complete when this returns.
        return list(_dispatch(self, environ, start_response))


DomainDispatcherApplication.__call__ = _one_at_a_time

if __name__ == "__main__":
    server.main(sys.argv[1:])
