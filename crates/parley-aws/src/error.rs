//! SDK errors onto [`StoreError`], keeping each SDK error as the source.

use std::error::Error;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use parley_core::StoreError;

/// Error codes that mean "the service is there but cannot work right now".
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalError",
    "ServiceUnavailable",
    "SlowDown",
    "RequestTimeout",
    "TransactionInProgressException",
];

/// Maps an SDK error: timeouts, connection failures, broken responses, throttling and
/// 5xx answers are `Unavailable` (worth a retry later); anything else is `Other`. The
/// conditional failures that mean `AlreadyExists` or `VersionMismatch` are told apart
/// by the callers, which know what their condition was.
pub fn sdk_err<E>(e: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
{
    if is_unavailable(&e) {
        StoreError::Unavailable(Box::new(e))
    } else {
        StoreError::Other(Box::new(e))
    }
}

/// Whether the error is one of the transient kinds listed at [`sdk_err`].
pub fn is_unavailable<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    match e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(ctx) => {
            ctx.raw().status().is_server_error() || ctx.err().code().is_some_and(|c| TRANSIENT_CODES.contains(&c))
        }
        _ => false,
    }
}

/// The HTTP status of a service error, if the service answered at all.
pub(crate) fn status<E>(e: &SdkError<E, HttpResponse>) -> Option<u16> {
    match e {
        SdkError::ServiceError(ctx) => Some(ctx.raw().status().as_u16()),
        _ => None,
    }
}

/// An error of our own making (bad stored data, an impossible state), as `Other`.
pub(crate) fn other(e: impl Into<Box<dyn Error + Send + Sync>>) -> StoreError {
    StoreError::Other(e.into())
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::operation::get_item::GetItemError;
    use aws_sdk_dynamodb::types::error::ProvisionedThroughputExceededException;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    fn response(status: u16) -> HttpResponse {
        HttpResponse::new(StatusCode::try_from(status).expect("valid status"), SdkBody::empty())
    }

    #[test]
    fn throttling_is_unavailable_and_keeps_its_source() {
        let err = GetItemError::ProvisionedThroughputExceededException(
            ProvisionedThroughputExceededException::builder()
                .message("slow down")
                // As the response deserialiser sets it.
                .meta(
                    aws_smithy_types::error::ErrorMetadata::builder()
                        .code("ProvisionedThroughputExceededException")
                        .build(),
                )
                .build(),
        );
        let mapped = sdk_err(SdkError::service_error(err, response(400)));
        assert!(matches!(mapped, StoreError::Unavailable(_)), "{mapped:?}");
        let source = mapped.source().expect("the SDK error is kept");
        assert!(source.downcast_ref::<SdkError<GetItemError, HttpResponse>>().is_some());
    }

    #[test]
    fn a_503_is_unavailable_and_a_400_is_other() {
        let unhandled = || GetItemError::unhandled("boom");
        assert!(matches!(
            sdk_err(SdkError::service_error(unhandled(), response(503))),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            sdk_err(SdkError::service_error(unhandled(), response(400))),
            StoreError::Other(_)
        ));
    }

    #[test]
    fn timeouts_and_connection_failures_are_unavailable() {
        let timeout: SdkError<GetItemError, HttpResponse> = SdkError::timeout_error("too slow");
        assert!(matches!(sdk_err(timeout), StoreError::Unavailable(_)));
        let construction: SdkError<GetItemError, HttpResponse> = SdkError::construction_failure("bad input");
        assert!(matches!(sdk_err(construction), StoreError::Other(_)));
    }
}
