//! A reply saved as it grows (`MessageStore::save_reply`) and a status moved on
//! condition (`MessageStore::set_status_if`): each is ONE `UpdateItem` of the message
//! item, so DynamoDB sees a bounded number of writes per reply.
//!
//! The condition is the stored `status` attribute (`#status = :expected`), so a stopped
//! reply is never overwritten by its generator. When it fails, the item as it was
//! (`ReturnValuesOnConditionCheckFailure = ALL_OLD`) tells "another status" (`false`)
//! from "no such message" (`NotFound`) without a second request.
//!
//! A save writes `status` and the whole `body`, made from the reply given. So that the
//! body keeps the fields a save does not own (seq, role, author, author name, creation
//! time, client message id) as stored, the same condition checks that the stored body
//! holds the given reply's ones (`parley_records::BodyIdentity`: `begins_with` and
//! `contains` on `body`). The generator passes the reply as `append` returned it, so
//! that holds and the save is one request. Should it not (a reply built by hand, or a
//! body written before `schemaVersion`), the failed condition's old item is the stored
//! message: the save is made again from it, on condition that the body is still that
//! one — the only path that takes more than one request.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use parley_core::StoreError;
use parley_core::message::{Conversation, Message, MessageStatus};
use parley_records::{BodyIdentity, CLIENT_MESSAGE_ID_FIELD, MessageRecord, MessageStatusRecord, decode, encode};

use crate::AwsStore;
use crate::error::sdk_err;
use crate::keys;
use crate::table::{CONFLICT_RETRIES, Item, backoff, get_s, key, s};

/// What a conditional update of a message came to.
enum Outcome {
    Written,
    /// No such message.
    Missing,
    /// The condition failed; the item as it was.
    Refused(Item),
}

impl AwsStore {
    pub(crate) async fn save_reply_item(
        &self,
        conversation: &Conversation,
        reply: &Message,
        expected: MessageStatus,
    ) -> Result<bool, StoreError> {
        let identity = BodyIdentity::of(reply)?;
        let (cmid_condition, cmid) = match identity.client_message_id {
            Some(cmid) => ("contains(body, :cmid)", cmid),
            None => ("NOT contains(body, :cmid)", CLIENT_MESSAGE_ID_FIELD.to_owned()),
        };
        let update = self
            .save_update(conversation, reply, expected, reply)?
            .condition_expression(format!(
                "#status = :expected AND begins_with(body, :head) AND contains(body, :created) AND {cmid_condition}"
            ))
            .expression_attribute_values(":head", s(identity.head))
            .expression_attribute_values(":created", s(identity.created_at))
            .expression_attribute_values(":cmid", s(cmid));
        let mut old = match outcome(update.send().await)? {
            Outcome::Written => return Ok(true),
            Outcome::Missing => return Err(StoreError::NotFound),
            Outcome::Refused(old) => old,
        };
        // The stored body is another's than the reply given, or written otherwise: save
        // over the stored message itself, as long as nobody writes it in between.
        for attempt in 0..CONFLICT_RETRIES {
            if !has_status(&old, expected)? {
                return Ok(false);
            }
            let body = get_s(&old, "body")?.to_owned();
            let stored = decode::<MessageRecord>(&body)?;
            let update = self
                .save_update(conversation, reply, expected, &stored)?
                .condition_expression("#status = :expected AND body = :old")
                .expression_attribute_values(":old", s(body));
            old = match outcome(update.send().await)? {
                Outcome::Written => return Ok(true),
                Outcome::Missing => return Err(StoreError::NotFound),
                Outcome::Refused(old) => old,
            };
            backoff(attempt).await;
        }
        Err(StoreError::Unavailable(
            "too many concurrent writers on one reply".into(),
        ))
    }

    pub(crate) async fn set_status_if_item(
        &self,
        conversation: &Conversation,
        seq: u64,
        expected: MessageStatus,
        status: MessageStatus,
    ) -> Result<bool, StoreError> {
        // The body's copy of the status is left behind, as `set_status` leaves it: the
        // attribute is the truth.
        let update = self
            .update_if_status(conversation, seq, expected)
            .condition_expression("#status = :expected")
            .update_expression("SET #status = :status")
            .expression_attribute_values(":status", s(MessageStatusRecord::name_of(status)));
        match outcome(update.send().await)? {
            Outcome::Written => Ok(true),
            Outcome::Missing => Err(StoreError::NotFound),
            Outcome::Refused(_) => Ok(false),
        }
    }

    /// The write of a save: `reply`'s content, status, usage and lease over the other fields
    /// of `base`, as `status` and `body`; the caller adds the condition.
    fn save_update(
        &self,
        conversation: &Conversation,
        reply: &Message,
        expected: MessageStatus,
        base: &Message,
    ) -> Result<UpdateItemFluentBuilder, StoreError> {
        let saved = Message {
            content: reply.content.clone(),
            status: reply.status,
            usage: reply.usage,
            lease: reply.lease.clone(),
            ..base.clone()
        };
        Ok(self
            .update_if_status(conversation, reply.seq, expected)
            .update_expression("SET #status = :status, body = :body")
            .expression_attribute_values(":status", s(MessageStatusRecord::name_of(reply.status)))
            .expression_attribute_values(":body", s(encode::<MessageRecord>(&saved)?)))
    }

    /// An update of the message `seq` whose condition (set by the caller) involves its
    /// stored status `expected`, returning the item as it was when the condition fails.
    fn update_if_status(
        &self,
        conversation: &Conversation,
        seq: u64,
        expected: MessageStatus,
    ) -> UpdateItemFluentBuilder {
        self.ddb
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::conversation_pk(conversation), keys::message_sk(seq))))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":expected", s(MessageStatusRecord::name_of(expected)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
    }
}

/// A failed condition without an item means there is no such message.
fn outcome<T>(result: Result<T, SdkError<UpdateItemError, HttpResponse>>) -> Result<Outcome, StoreError> {
    match result {
        Ok(_) => Ok(Outcome::Written),
        Err(e) => match e.as_service_error() {
            Some(UpdateItemError::ConditionalCheckFailedException(failed)) => Ok(match failed.item() {
                Some(old) => Outcome::Refused(old.clone()),
                None => Outcome::Missing,
            }),
            _ => Err(sdk_err(e)),
        },
    }
}

fn has_status(item: &Item, status: MessageStatus) -> Result<bool, StoreError> {
    Ok(get_s(item, "status")? == MessageStatusRecord::name_of(status))
}
