//! DynamoDB plumbing shared by the ports: attribute access, record bodies
//! (`parley-records`), paged queries, batch reads and deletes, transaction cancellation reasons
//! and retry pacing.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, KeysAndAttributes, WriteRequest};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use parley_core::StoreError;
use parley_core::ports::{Page, PageRequest};
use parley_records::{Record, decode};
use rand::Rng;

use crate::AwsStore;
use crate::error::{other, sdk_err};
use crate::keys::{PK, SK};

/// How often a conditional write that lost a race is tried again.
pub(crate) const CONFLICT_RETRIES: u32 = 50;

pub(crate) type Item = HashMap<String, AttributeValue>;

/// The size DynamoDB bills and limits (400 KB) for an item: the UTF-8 length of every
/// attribute name plus the size of its value, by the rules of the DynamoDB developer
/// guide ("Item sizes and formats").
pub fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(v) => 3 + v.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        AttributeValue::M(m) => 3 + m.iter().map(|(k, v)| 1 + k.len() + value_size(v)).sum::<usize>(),
        _ => 0,
    }
}

/// A number takes one byte per two significant digits, plus one.
fn number_size(n: &str) -> usize {
    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len().max(1);
    significant.div_ceil(2) + 1
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The key of an item.
pub(crate) fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

/// A string attribute that the item must have.
pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        _ => Err(other(format!("stored item lacks the string attribute {name}"))),
    }
}

/// A numeric attribute, if the item has it.
pub(crate) fn get_u64(item: &Item, name: &str) -> Result<Option<u64>, StoreError> {
    match item.get(name) {
        None => Ok(None),
        Some(AttributeValue::N(v)) => v.parse().map(Some).map_err(other),
        Some(_) => Err(other(format!("stored attribute {name} is not a number"))),
    }
}

/// A numeric attribute, signed, if the item has it.
pub(crate) fn get_i64(item: &Item, name: &str) -> Result<Option<i64>, StoreError> {
    match item.get(name) {
        None => Ok(None),
        Some(AttributeValue::N(v)) => v.parse().map(Some).map_err(other),
        Some(_) => Err(other(format!("stored attribute {name} is not a number"))),
    }
}

/// Decodes the record in a string attribute; one that does not decode (or is of a newer
/// schema version) is an error, not a panic.
pub(crate) fn decode_attr<R: Record>(item: &Item, name: &str) -> Result<R::Domain, StoreError> {
    decode::<R>(get_s(item, name)?)
}

/// What a cancelled transaction says about each of its actions, in order: the code
/// (`None`, `ConditionalCheckFailed`, `TransactionConflict`, …) and, where asked for,
/// the item as it was. `None` when the error is not a cancellation.
pub(crate) fn cancellation(
    e: &SdkError<TransactWriteItemsError, HttpResponse>,
) -> Option<Vec<(Option<String>, Option<Item>)>> {
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(c)) => Some(
            c.cancellation_reasons()
                .iter()
                .map(|r| (r.code().map(str::to_owned).filter(|c| c != "None"), r.item().cloned()))
                .collect(),
        ),
        _ => None,
    }
}

/// Sleeps a random time up to a bound that doubles with each attempt, from 2 ms to 1 s
/// (full jitter), so that writers who collided do not collide again in step, and the
/// more of them there are, the wider they spread.
pub(crate) async fn backoff(attempt: u32) {
    let cap_ms = (2u64 << attempt.min(9)).min(1_000);
    let ms = rand::thread_rng().gen_range(1..=cap_ms);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// Restricts a newest-first listing to sort keys starting with `prefix` and below the
/// page's cursor. Every listing partition holds only keys of its one kind.
pub(crate) fn below_cursor(query: QueryFluentBuilder, prefix: &str, page: &PageRequest) -> QueryFluentBuilder {
    match &page.after {
        Some(after) => query
            .key_condition_expression("#pk = :pk AND #sk < :cursor")
            .expression_attribute_values(":cursor", s(format!("{prefix}{after}"))),
        None => query
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_values(":prefix", s(prefix)),
    }
}

impl AwsStore {
    /// Writes a new item; `AlreadyExists` when its key is taken.
    pub(crate) async fn put_new(&self, item: Item) -> Result<(), StoreError> {
        let result = self
            .ddb
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::AlreadyExists)
            }
            Err(e) => Err(sdk_err(e)),
        }
    }

    /// Reads an item strongly consistently.
    pub(crate) async fn get_item(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .ddb
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(out.item)
    }

    /// Reads up to 100 items by key in one `BatchGetItem`, strongly consistently (and
    /// again for what DynamoDB leaves unprocessed); missing items are left out, and the
    /// order is DynamoDB's.
    pub(crate) async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::with_capacity(keys.len());
        let mut request = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(other)?,
        );
        let mut attempt = 0;
        while let Some(wanted) = request.take() {
            let out = self
                .ddb
                .batch_get_item()
                .request_items(&self.table, wanted)
                .send()
                .await
                .map_err(sdk_err)?;
            items.extend(
                out.responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default(),
            );
            request = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .filter(|k| !k.keys().is_empty());
            if request.is_some() {
                attempt += 1;
                if attempt > 8 {
                    return Err(StoreError::Unavailable("DynamoDB left reads unprocessed".into()));
                }
                backoff(attempt).await;
            }
        }
        Ok(items)
    }

    /// Reads the record in the `body` of an item.
    pub(crate) async fn get_body<R: Record>(&self, key: Item) -> Result<Option<R::Domain>, StoreError> {
        self.get_item(key)
            .await?
            .map(|item| decode_attr::<R>(&item, "body"))
            .transpose()
    }

    /// Read, change, write back only if nobody wrote in between (the stored `body` is
    /// the condition), and start over if somebody did. A missing item stays missing.
    pub(crate) async fn update_body<R: Record>(
        &self,
        key: Item,
        change: impl Fn(&mut R::Domain) -> Result<Item, StoreError>,
    ) -> Result<(), StoreError> {
        for attempt in 0..CONFLICT_RETRIES {
            let Some(item) = self.get_item(key.clone()).await? else {
                return Ok(());
            };
            let old = get_s(&item, "body")?.to_owned();
            let mut value = decode::<R>(&old)?;
            let result = self
                .ddb
                .put_item()
                .table_name(&self.table)
                .set_item(Some(change(&mut value)?))
                .condition_expression("body = :old")
                .expression_attribute_values(":old", s(old))
                .send()
                .await;
            match result {
                Ok(_) => return Ok(()),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    backoff(attempt).await;
                }
                Err(e) => return Err(sdk_err(e)),
            }
        }
        Err(StoreError::Unavailable(
            "too many concurrent writers on one item".into(),
        ))
    }

    /// Runs `query` (without `Limit` or a start key) across DynamoDB's pages until it has
    /// `want` items or there are no more; the flag says whether more may follow.
    pub(crate) async fn query_up_to(
        &self,
        query: QueryFluentBuilder,
        want: usize,
    ) -> Result<(Vec<Item>, bool), StoreError> {
        let mut items: Vec<Item> = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            // One more than still wanted, to learn whether more follow without another page.
            let room = want.saturating_sub(items.len()) + 1;
            let out = query
                .clone()
                .limit(i32::try_from(room).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_err)?;
            items.extend(out.items.unwrap_or_default());
            if items.len() > want {
                items.truncate(want);
                return Ok((items, true));
            }
            match out.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => return Ok((items, false)),
            }
        }
    }

    /// Every item `query` finds, across all pages.
    pub(crate) async fn query_all(&self, query: QueryFluentBuilder) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut pages = query.into_paginator().send();
        while let Some(page) = pages.next().await {
            items.extend(page.map_err(sdk_err)?.items.unwrap_or_default());
        }
        Ok(items)
    }

    /// One page of a newest-first listing of items whose `id` is taken from `id_of`:
    /// `query` must already select the listing's key range below the cursor.
    pub(crate) async fn listing<T>(
        &self,
        query: QueryFluentBuilder,
        page: &PageRequest,
        decode: impl Fn(&Item) -> Result<(String, T), StoreError>,
    ) -> Result<Page<T>, StoreError> {
        let limit = usize::try_from(page.limit.max(1)).map_err(other)?;
        let (items, more) = self.query_up_to(query.scan_index_forward(false), limit).await?;
        let decoded = items.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        let next = if more {
            decoded.last().map(|(id, _)| id.clone())
        } else {
            None
        };
        Ok(Page {
            items: decoded.into_iter().map(|(_, v)| v).collect(),
            next,
        })
    }

    /// Deletes every item of the partition `pk` (members, messages, markers), 25 per
    /// batch, retrying what DynamoDB leaves unprocessed.
    pub(crate) async fn delete_partition(&self, pk: &str) -> Result<(), StoreError> {
        self.seqs.forget(pk);
        let query = self
            .ddb
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(pk))
            .projection_expression("#pk, #sk")
            .consistent_read(true);
        let mut pages = query.into_paginator().send();
        while let Some(page) = pages.next().await {
            let keys = page.map_err(sdk_err)?.items.unwrap_or_default();
            for chunk in keys.chunks(25) {
                self.batch_delete(chunk).await?;
            }
        }
        Ok(())
    }

    async fn batch_delete(&self, keys: &[Item]) -> Result<(), StoreError> {
        let mut requests = keys
            .iter()
            .map(|k| {
                let delete = DeleteRequest::builder()
                    .set_key(Some(k.clone()))
                    .build()
                    .map_err(other)?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        for attempt in 0..8 {
            let out = self
                .ddb
                .batch_write_item()
                .request_items(&self.table, requests)
                .send()
                .await
                .map_err(sdk_err)?;
            requests = out
                .unprocessed_items
                .and_then(|mut u| u.remove(&self.table))
                .unwrap_or_default();
            if requests.is_empty() {
                return Ok(());
            }
            backoff(attempt).await;
        }
        Err(StoreError::Unavailable(
            "DynamoDB left deletes unprocessed after repeated retries".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_sizes_follow_the_dynamodb_rules() {
        let item = HashMap::from([("PK".to_owned(), s("abc")), ("seq".to_owned(), n(1234))]);
        // "PK" 2 + "abc" 3 + "seq" 3 + 1234 (4 significant digits: 2 + 1).
        assert_eq!(item_size(&item), 11);
        assert_eq!(number_size("2000"), 2);
        assert_eq!(number_size("1"), 2);
        assert_eq!(number_size("12345"), 4);
    }
}
