//! [`MessageStore`]: one item per message in the conversation's partition
//! (`CONV#{s|r}#{id}` / `MSG#{seq, 20 digits}`), so a send writes one small item
//! however long the conversation is, and reads only the newest key to number it.
//!
//! Numbering: read the highest seq (a `Query` backwards with `Limit` 1), write seq + 1
//! on condition that it is still free, and on losing that race read again after a
//! short random pause. A client message id is a marker item
//! (`CMID#{authorId}/{clientMessageId}`) written in one transaction with its message,
//! so a retried send either stores both or neither. Status and reply seq are separate
//! attributes, updated in place; they override the copies in `body`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use parley_core::StoreError;
use parley_core::message::{Conversation, Message, MessageStatus, NewMessage};
use parley_core::ports::{MessageRange, MessageStore};
use parley_core::values::ClientMessageId;

use crate::AwsStore;
use crate::error::{other, sdk_err};
use crate::keys::{self, MSG_PREFIX, PK, SK};
use crate::table::{Item, backoff, cancellation, from_json, get_s, get_u64, key, n, s, to_json};

/// How often an append that lost the race for a seq tries again. With the backoff of
/// `table::backoff` this outlasts a hundred writers on one conversation.
const APPEND_ATTEMPTS: u32 = 100;

enum Attempt {
    Stored,
    SeqTaken,
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
        item.insert("status".into(), s(status_name(message.status)?));
        item.insert("body".into(), s(to_json(message)?));
        Ok(item)
    }

    /// One try at storing `message` under its seq.
    async fn try_store(&self, pk: &str, message: &Message) -> Result<Attempt, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::message_item(pk, message)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(other)?;
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
        let mut marker = key(pk, keys::client_id_sk(&message.author_id, cmid.as_str()));
        marker.insert("seq".into(), n(message.seq));
        let marker = Put::builder()
            .table_name(&self.table)
            .set_item(Some(marker))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(other)?;
        let result = self
            .ddb
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().put(marker).build())
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
}

fn status_name(status: MessageStatus) -> Result<String, StoreError> {
    match serde_json::to_value(status).map_err(other)? {
        serde_json::Value::String(name) => Ok(name),
        _ => Err(other("a message status is not a string")),
    }
}

fn decode(item: &Item) -> Result<Message, StoreError> {
    let mut message: Message = from_json(item, "body")?;
    message.status =
        serde_json::from_value(serde_json::Value::String(get_s(item, "status")?.to_owned())).map_err(other)?;
    message.reply_seq = get_u64(item, "reply_seq")?;
    Ok(message)
}

#[async_trait]
impl MessageStore for AwsStore {
    #[tracing::instrument(level = "debug", skip_all, fields(conversation = conversation.key()))]
    async fn append(&self, conversation: &Conversation, message: &NewMessage) -> Result<Message, StoreError> {
        let pk = keys::conversation_pk(conversation);
        let mut stored = Message {
            seq: 0,
            role: message.role,
            author_id: message.author_id.clone(),
            author_name: message.author_name.clone(),
            content: message.content.clone(),
            status: message.status,
            created_at: message.created_at,
            usage: message.usage,
            client_message_id: message.client_message_id.clone(),
            reply_seq: None,
        };
        for attempt in 0..APPEND_ATTEMPTS {
            stored.seq = self.last_seq(&pk).await? + 1;
            match self.try_store(&pk, &stored).await? {
                Attempt::Stored => return Ok(stored),
                Attempt::SeqTaken => backoff(attempt).await,
            }
        }
        Err(StoreError::Unavailable(
            "too many concurrent appends to one conversation".into(),
        ))
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
        let update = self
            .ddb
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::conversation_pk(conversation), keys::message_sk(seq))))
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(status_name(status)?));
        let update = match reply_seq {
            Some(reply) => update
                .update_expression("SET #status = :status, reply_seq = :reply")
                .expression_attribute_values(":reply", n(reply)),
            None => update.update_expression("SET #status = :status REMOVE reply_seq"),
        };
        match update.send().await {
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
