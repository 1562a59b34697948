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
//!
//! The end of a reply that did not fail (`MessageStore::finish_exchange`) is that same
//! save, the user message's status and reply seq, and the bot's token counter (as
//! `QuotaStore::add` writes it) in ONE `TransactWriteItems`. A conflict with another
//! transaction, or a token counter found expired, is tried again; a reply whose body is
//! not the one given falls back to the save above, then the other two writes.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use chrono::Utc;
use parley_core::StoreError;
use parley_core::message::{Conversation, Message, MessageStatus};
use parley_core::ports::{MessageStore, QuotaStore};
use parley_core::quota::QuotaAdd;
use parley_records::{BodyIdentity, CLIENT_MESSAGE_ID_FIELD, MessageRecord, MessageStatusRecord, decode, encode};

use crate::AwsStore;
use crate::error::{other, sdk_err};
use crate::keys;
use crate::quotas::{self, Mode};
use crate::table::{CONFLICT_RETRIES, Item, backoff, cancellation, get_s, key, s};

const CONDITION_FAILED: &str = "ConditionalCheckFailed";

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
        let update = self.identified_save(conversation, reply, expected)?;
        let old = match outcome(update.send().await)? {
            Outcome::Written => return Ok(true),
            Outcome::Missing => return Err(StoreError::NotFound),
            Outcome::Refused(old) => old,
        };
        self.save_over_stored(conversation, reply, expected, old).await
    }

    /// A save refused although the stored reply may have been in status `expected`
    /// (`old`, as it was): its body is another's than the reply given, or written
    /// otherwise.
    async fn save_over_stored(
        &self,
        conversation: &Conversation,
        reply: &Message,
        expected: MessageStatus,
        mut old: Item,
    ) -> Result<bool, StoreError> {
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

    /// The save of `reply` on condition that its stored status is `expected` and its
    /// stored body is the reply's own (see above).
    fn identified_save(
        &self,
        conversation: &Conversation,
        reply: &Message,
        expected: MessageStatus,
    ) -> Result<UpdateItemFluentBuilder, StoreError> {
        let identity = BodyIdentity::of(reply)?;
        let (cmid_condition, cmid) = match identity.client_message_id {
            Some(cmid) => ("contains(body, :cmid)", cmid),
            None => ("NOT contains(body, :cmid)", CLIENT_MESSAGE_ID_FIELD.to_owned()),
        };
        Ok(self
            .save_update(conversation, reply, expected, reply)?
            .condition_expression(format!(
                "#status = :expected AND begins_with(body, :head) AND contains(body, :created) AND {cmid_condition}"
            ))
            .expression_attribute_values(":head", s(identity.head))
            .expression_attribute_values(":created", s(identity.created_at))
            .expression_attribute_values(":cmid", s(cmid)))
    }

    pub(crate) async fn finish_exchange_items(
        &self,
        conversation: &Conversation,
        reply: &Message,
        expected: MessageStatus,
        asker_seq: u64,
        tokens: Option<&QuotaAdd>,
    ) -> Result<bool, StoreError> {
        let counter = tokens.map(|t| quotas::unbounded(&t.key, t.amount, t.expires_at));
        let mut mode = Mode::Increment;
        for attempt in 0..CONFLICT_RETRIES {
            let answered = self.status_update(conversation, asker_seq, MessageStatus::Complete, Some(reply.seq));
            let mut request = self
                .ddb
                .transact_write_items()
                .transact_items(in_transaction(self.identified_save(conversation, reply, expected)?)?)
                .transact_items(in_transaction(answered)?);
            if let Some(counter) = &counter {
                request = request.transact_items(self.counter_update(counter, mode, Utc::now().timestamp())?);
            }
            let Err(e) = request.send().await else {
                return Ok(true);
            };
            let Some(mut reasons) = cancellation(&e) else {
                return Err(sdk_err(e));
            };
            let failed = |i: usize| reasons.get(i).and_then(|(code, _)| code.as_deref()) == Some(CONDITION_FAILED);
            if failed(0) {
                let old = match reasons.swap_remove(0).1 {
                    Some(old) => Some(old),
                    None => self.get_item(self.message_key(conversation, reply.seq)).await?,
                };
                let Some(old) = old else {
                    return Err(StoreError::NotFound);
                };
                if !has_status(&old, expected)? {
                    return Ok(false);
                }
                return self
                    .finish_apart(conversation, reply, expected, asker_seq, tokens, old)
                    .await;
            }
            if failed(1) {
                return Err(StoreError::NotFound);
            }
            if failed(2) {
                mode = mode.other();
            } else if reasons
                .iter()
                .any(|(code, _)| !matches!(code.as_deref(), None | Some("TransactionConflict")))
            {
                return Err(sdk_err(e));
            }
            backoff(attempt).await;
        }
        Err(StoreError::Unavailable(
            "too many concurrent writers on one exchange".into(),
        ))
    }

    /// An exchange's end written apart, for a reply whose stored body is not the one
    /// given (`old`): the save, then the user message, then the tokens.
    async fn finish_apart(
        &self,
        conversation: &Conversation,
        reply: &Message,
        expected: MessageStatus,
        asker_seq: u64,
        tokens: Option<&QuotaAdd>,
        old: Item,
    ) -> Result<bool, StoreError> {
        if !self.save_over_stored(conversation, reply, expected, old).await? {
            return Ok(false);
        }
        self.set_status(conversation, asker_seq, MessageStatus::Complete, Some(reply.seq))
            .await?;
        if let Some(tokens) = tokens {
            self.add(&tokens.key, tokens.amount, tokens.expires_at).await?;
        }
        Ok(true)
    }

    fn message_key(&self, conversation: &Conversation, seq: u64) -> Item {
        key(keys::conversation_pk(conversation), keys::message_sk(seq))
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
            .set_key(Some(self.message_key(conversation, seq)))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":expected", s(MessageStatusRecord::name_of(expected)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
    }
}

/// The same write as an action of a transaction, returning the item as it was when its
/// condition fails.
fn in_transaction(update: UpdateItemFluentBuilder) -> Result<TransactWriteItem, StoreError> {
    let input = update.as_input();
    let update = Update::builder()
        .set_table_name(input.get_table_name().clone())
        .set_key(input.get_key().clone())
        .set_update_expression(input.get_update_expression().clone())
        .set_condition_expression(input.get_condition_expression().clone())
        .set_expression_attribute_names(input.get_expression_attribute_names().clone())
        .set_expression_attribute_values(input.get_expression_attribute_values().clone())
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()
        .map_err(other)?;
    Ok(TransactWriteItem::builder().update(update).build())
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
