//! [`MessageStore`]: one item per message in the conversation's partition
//! (`CONV#{s|r}#{id}` / `MSG#{seq, 20 digits}`), so a send writes one small item
//! however long the conversation is, and reads only the newest key to number it.
//!
//! Numbering: read the highest seq (a `Query` backwards with `Limit` 1), write seq + 1
//! on condition that it is still free, and on losing that race read again after a
//! short random pause. A client message id is a marker item
//! (`CMID#{authorId}/{clientMessageId}`) written in one transaction with its message,
//! so a retried send either stores both or neither. A charged append puts the quota
//! counters' conditional updates into that same transaction (see `quotas.rs`), and the
//! reply it opens (seq + 1) when it opens one. The
//! `body` is the message's record (`parley_records::MessageRecord`); status and reply
//! seq are separate attributes, updated in place, and override the copies in `body`.
//! A reply saved as it grows is in `replies.rs`.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use chrono::Utc;
use parley_core::StoreError;
use parley_core::message::{Conversation, Message, MessageStatus, NewMessage};
use parley_core::ports::{Appended, MessageRange, MessageStore};
use parley_core::quota::{QuotaAdd, QuotaCharge};
use parley_core::values::ClientMessageId;
use parley_records::{MessageRecord, MessageStatusRecord, encode};

use crate::AwsStore;
use crate::error::{other, sdk_err};
use crate::keys::{self, MSG_PREFIX, PK, SK};
use crate::quotas::{self, Counter, Mode, Verdict, judge};
use crate::table::{Item, backoff, cancellation, decode_attr, get_s, get_u64, key, n, s};

/// How often an append that lost the race for a seq tries again. With the backoff of
/// `table::backoff` this outlasts a hundred writers on one conversation.
const APPEND_ATTEMPTS: u32 = 100;

enum Attempt {
    Stored,
    SeqTaken,
}

/// The outcome of one try of a charged append.
enum Charged {
    Stored,
    Denied(String),
    Retry,
}

impl AwsStore {
    /// The highest seq in the conversation, 0 when it is empty.
    async fn last_seq(&self, pk: &str) -> Result<u64, StoreError> {
        let out = self
            .ddb
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(MSG_PREFIX))
            .projection_expression("#sk")
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err)?;
        match out.items.unwrap_or_default().first() {
            None => Ok(0),
            Some(item) => keys::strip(get_s(item, SK)?, MSG_PREFIX)
                .and_then(|digits| digits.parse().ok())
                .ok_or_else(|| other("a message key without a seq")),
        }
    }

    fn message_item(pk: &str, message: &Message) -> Result<Item, StoreError> {
        let mut item = key(pk, keys::message_sk(message.seq));
        item.insert("seq".into(), n(message.seq));
        item.insert("status".into(), s(MessageStatusRecord::name_of(message.status)));
        if let Some(reply) = message.reply_seq {
            item.insert("reply_seq".into(), n(reply));
        }
        item.insert("body".into(), s(encode::<MessageRecord>(message)?));
        Ok(item)
    }

    /// The marker item of a client message id, written only if the id is unused.
    fn marker_put(&self, pk: &str, message: &Message, cmid: &ClientMessageId) -> Result<TransactWriteItem, StoreError> {
        let mut marker = key(pk, keys::client_id_sk(&message.author_id, cmid.as_str()));
        marker.insert("seq".into(), n(message.seq));
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(marker))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(other)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// One try at storing `message` under its seq together with its marker, the reply
    /// it opens and the counters in their `modes`, in one transaction.
    async fn try_store_charged(
        &self,
        pk: &str,
        message: &Message,
        reply: Option<&Message>,
        counters: &[Counter],
        modes: &mut [Mode],
    ) -> Result<Charged, StoreError> {
        let now = Utc::now().timestamp();
        let put = self.message_put(pk, message)?;
        let mut request = self
            .ddb
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build());
        if let Some(cmid) = &message.client_message_id {
            request = request.transact_items(self.marker_put(pk, message, cmid)?);
        }
        if let Some(reply) = reply {
            let put = self.message_put(pk, reply)?;
            request = request.transact_items(TransactWriteItem::builder().put(put).build());
        }
        for (counter, mode) in counters.iter().zip(modes.iter()) {
            request = request.transact_items(self.counter_update(counter, *mode, now)?);
        }
        let Err(e) = request.send().await else {
            return Ok(Charged::Stored);
        };
        let Some(reasons) = cancellation(&e) else {
            return Err(sdk_err(e));
        };
        let failed = |code: Option<&str>| code == Some("ConditionalCheckFailed");
        if reasons.iter().any(|(code, _)| {
            !matches!(
                code.as_deref(),
                None | Some("ConditionalCheckFailed" | "TransactionConflict")
            )
        }) {
            return Err(sdk_err(e));
        }
        // A taken client id is told first: a retry of a stored message is not refused
        // for a counter spent since.
        if message.client_message_id.is_some() && reasons.get(1).is_some_and(|(code, _)| failed(code.as_deref())) {
            return Err(StoreError::AlreadyExists);
        }
        let first_counter = 1 + usize::from(message.client_message_id.is_some()) + usize::from(reply.is_some());
        for (i, counter) in counters.iter().enumerate() {
            let Some((code, old)) = reasons.get(first_counter + i) else {
                continue;
            };
            if !failed(code.as_deref()) {
                continue;
            }
            let old = match old {
                Some(old) => Some(old.clone()),
                None => self.counter_item(counter).await?,
            };
            match judge(old.as_ref(), counter, now)? {
                Verdict::Full if modes[i] == Mode::Increment => {
                    return Ok(Charged::Denied(counter.key.clone()));
                }
                Verdict::Expired => modes[i] = Mode::Restart,
                _ => modes[i] = Mode::Increment,
            }
        }
        // The seq was taken, a counter raced or expired, or another transaction
        // conflicted: nothing was written, so try again.
        Ok(Charged::Retry)
    }

    /// The put of `message` under its seq, refused if that seq is taken.
    fn message_put(&self, pk: &str, message: &Message) -> Result<Put, StoreError> {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::message_item(pk, message)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(other)
    }

    /// One try at storing `message` under its seq.
    async fn try_store(&self, pk: &str, message: &Message) -> Result<Attempt, StoreError> {
        let put = self.message_put(pk, message)?;
        let Some(cmid) = &message.client_message_id else {
            let result = self
                .ddb
                .put_item()
                .table_name(&self.table)
                .set_item(Some(put.item))
                .condition_expression("attribute_not_exists(PK)")
                .send()
                .await;
            return match result {
                Ok(_) => Ok(Attempt::Stored),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    Ok(Attempt::SeqTaken)
                }
                Err(e) => Err(sdk_err(e)),
            };
        };
        let result = self
            .ddb
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(self.marker_put(pk, message, cmid)?)
            .send()
            .await;
        let Err(e) = result else { return Ok(Attempt::Stored) };
        let Some(reasons) = cancellation(&e) else {
            return Err(sdk_err(e));
        };
        let code = |i: usize| reasons.get(i).and_then(|(c, _)| c.as_deref());
        match (code(0), code(1)) {
            (_, Some("ConditionalCheckFailed")) => Err(StoreError::AlreadyExists),
            (Some("ConditionalCheckFailed" | "TransactionConflict"), _) | (_, Some("TransactionConflict")) => {
                Ok(Attempt::SeqTaken)
            }
            _ => Err(sdk_err(e)),
        }
    }

    /// The write of a message's status and reply seq (`None` removes it), on condition
    /// that the message exists.
    pub(crate) fn status_update(
        &self,
        conversation: &Conversation,
        seq: u64,
        status: MessageStatus,
        reply_seq: Option<u64>,
    ) -> UpdateItemFluentBuilder {
        let update = self
            .ddb
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::conversation_pk(conversation), keys::message_sk(seq))))
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(MessageStatusRecord::name_of(status)));
        match reply_seq {
            Some(reply) => update
                .update_expression("SET #status = :status, reply_seq = :reply")
                .expression_attribute_values(":reply", n(reply)),
            None => update.update_expression("SET #status = :status REMOVE reply_seq"),
        }
    }
}

fn too_many_appends() -> StoreError {
    StoreError::Unavailable("too many concurrent appends to one conversation".into())
}

fn decode(item: &Item) -> Result<Message, StoreError> {
    let mut message = decode_attr::<MessageRecord>(item, "body")?;
    message.status = MessageStatusRecord::parse(get_s(item, "status")?)?;
    message.reply_seq = get_u64(item, "reply_seq")?;
    Ok(message)
}

#[async_trait]
impl MessageStore for AwsStore {
    #[tracing::instrument(level = "debug", skip_all, fields(conversation = conversation.key()))]
    async fn append(&self, conversation: &Conversation, message: &NewMessage) -> Result<Message, StoreError> {
        let pk = keys::conversation_pk(conversation);
        let mut stored = message.numbered(0);
        // The number after the last one this store wrote, if it wrote one: no read when
        // nobody else wrote since; the write refuses a taken number, and then it reads.
        let mut hint = self.seqs.next(&pk);
        for attempt in 0..APPEND_ATTEMPTS {
            let hinted = hint.take();
            stored.seq = match hinted {
                Some(seq) => seq,
                None => self.last_seq(&pk).await? + 1,
            };
            // After an error, what this store knew of the conversation is not trusted.
            match self
                .try_store(&pk, &stored)
                .await
                .inspect_err(|_| self.seqs.forget(&pk))?
            {
                Attempt::Stored => {
                    self.seqs.stored(&pk, stored.seq);
                    return Ok(stored);
                }
                Attempt::SeqTaken if hinted.is_some() => {}
                Attempt::SeqTaken => backoff(attempt).await,
            }
        }
        Err(too_many_appends())
    }

    /// The message, its client id's marker and an update per counter in one
    /// `TransactWriteItems`; each counter's condition is that of `try_consume`.
    #[tracing::instrument(level = "debug", skip_all, fields(conversation = conversation.key(), charges = charges.len()))]
    async fn append_charged(
        &self,
        conversation: &Conversation,
        message: &NewMessage,
        reply: Option<&NewMessage>,
        charges: &[QuotaCharge],
    ) -> Result<Appended, StoreError> {
        let counters = quotas::counters(charges);
        if let Some(full) = counters.iter().find(|c| c.bound == Some(0)) {
            return Ok(Appended::Denied { key: full.key.clone() });
        }
        let pk = keys::conversation_pk(conversation);
        let mut stored = message.numbered(0);
        let mut modes = vec![Mode::Increment; counters.len()];
        let mut hint = self.seqs.next(&pk);
        for attempt in 0..APPEND_ATTEMPTS {
            let hinted = hint.take();
            stored.seq = match hinted {
                Some(seq) => seq,
                None => self.last_seq(&pk).await? + 1,
            };
            let opened = reply.map(|reply| reply.numbered(stored.seq + 1));
            stored.reply_seq = opened.as_ref().map(|reply| reply.seq);
            let charged = self
                .try_store_charged(&pk, &stored, opened.as_ref(), &counters, &mut modes)
                .await;
            match charged.inspect_err(|_| self.seqs.forget(&pk))? {
                Charged::Stored => {
                    self.seqs.stored(&pk, stored.reply_seq.unwrap_or(stored.seq));
                    return Ok(Appended::Stored(stored));
                }
                Charged::Denied(key) => return Ok(Appended::Denied { key }),
                Charged::Retry if hinted.is_some() => {}
                Charged::Retry => backoff(attempt).await,
            }
        }
        Err(too_many_appends())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(conversation = conversation.key(), seq))]
    async fn get(&self, conversation: &Conversation, seq: u64) -> Result<Option<Message>, StoreError> {
        let item = self
            .get_item(key(keys::conversation_pk(conversation), keys::message_sk(seq)))
            .await?;
        item.as_ref().map(decode).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(conversation = conversation.key()))]
    async fn find_by_client_id(
        &self,
        conversation: &Conversation,
        author_id: &str,
        client_message_id: &ClientMessageId,
    ) -> Result<Option<Message>, StoreError> {
        let pk = keys::conversation_pk(conversation);
        let marker = self
            .get_item(key(pk, keys::client_id_sk(author_id, client_message_id.as_str())))
            .await?;
        match marker.as_ref().map(|m| get_u64(m, "seq")).transpose()?.flatten() {
            Some(seq) => self.get(conversation, seq).await,
            None => Ok(None),
        }
    }

    /// A missing message stays missing.
    #[tracing::instrument(level = "debug", skip_all, fields(conversation = conversation.key(), seq))]
    async fn set_status(
        &self,
        conversation: &Conversation,
        seq: u64,
        status: MessageStatus,
        reply_seq: Option<u64>,
    ) -> Result<(), StoreError> {
        match self.status_update(conversation, seq, status, reply_seq).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(sdk_err(e)),
        }
    }

    /// See `replies.rs`.
    #[tracing::instrument(level = "debug", skip_all, fields(conversation = conversation.key(), seq = reply.seq, ?expected, status = ?reply.status))]
    async fn save_reply(
        &self,
        conversation: &Conversation,
        reply: &Message,
        expected: MessageStatus,
    ) -> Result<bool, StoreError> {
        self.save_reply_item(conversation, reply, expected).await
    }

    /// See `replies.rs`.
    #[tracing::instrument(level = "debug", skip_all, fields(conversation = conversation.key(), seq = reply.seq, ?expected, status = ?reply.status))]
    async fn finish_exchange(
        &self,
        conversation: &Conversation,
        reply: &Message,
        expected: MessageStatus,
        asker_seq: u64,
        tokens: Option<&QuotaAdd>,
    ) -> Result<bool, StoreError> {
        self.finish_exchange_items(conversation, reply, expected, asker_seq, tokens)
            .await
    }

    /// See `replies.rs`.
    #[tracing::instrument(level = "debug", skip_all, fields(conversation = conversation.key(), seq, ?expected, ?status))]
    async fn set_status_if(
        &self,
        conversation: &Conversation,
        seq: u64,
        expected: MessageStatus,
        status: MessageStatus,
    ) -> Result<bool, StoreError> {
        self.set_status_if_item(conversation, seq, expected, status).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(conversation = conversation.key()))]
    async fn list(&self, conversation: &Conversation, range: MessageRange) -> Result<Vec<Message>, StoreError> {
        let (low, high, forward, limit) = match range {
            MessageRange::Before { before, limit } => match before {
                Some(0) => return Ok(Vec::new()),
                Some(b) => (0, b - 1, false, limit),
                None => (0, u64::MAX, false, limit),
            },
            MessageRange::After { after, limit } => match after.checked_add(1) {
                Some(first) => (first, u64::MAX, true, limit),
                None => return Ok(Vec::new()),
            },
        };
        if limit == 0 {
            return Ok(Vec::new());
        }
        let query = self
            .ddb
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :low AND :high")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(keys::conversation_pk(conversation)))
            .expression_attribute_values(":low", s(keys::message_sk(low)))
            .expression_attribute_values(":high", s(keys::message_sk(high)))
            .scan_index_forward(forward)
            .consistent_read(true);
        let limit = usize::try_from(limit).map_err(other)?;
        let (items, _) = self.query_up_to(query, limit).await?;
        let mut messages = items.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        if !forward {
            messages.reverse();
        }
        Ok(messages)
    }
}
