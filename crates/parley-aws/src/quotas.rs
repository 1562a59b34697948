//! [`QuotaStore`]: one counter item per key (`QUOTA#{key}` / `QUOTA`) with the count
//! `n` and the TTL attribute `expires_at` (epoch seconds).
//!
//! A charge is a conditional increment: "under the limit and not expired". Several
//! counters are charged in one `TransactWriteItems`, so all move or none. TTL deletes
//! expired items only eventually, so an expired counter still stored counts as zero:
//! a charge that finds one resets it instead (`n = 1`, the charge's expiry), on the
//! condition that it is still expired, and the whole charge is tried again.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use parley_core::StoreError;
use parley_core::ports::QuotaStore;
use parley_core::quota::{QuotaCharge, QuotaOutcome};

use crate::AwsStore;
use crate::error::{other, sdk_err};
use crate::keys::{self, EXPIRES_AT, QUOTA_SK};
use crate::table::{CONFLICT_RETRIES, Item, backoff, cancellation, get_i64, get_u64, key, n};

/// How to write one counter on this try.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Add to a live (or absent) counter, within the bound.
    Increment,
    /// Start an expired counter over.
    Restart,
}

impl Mode {
    /// The other mode: an increment fails only on an expired counter, a restart only on
    /// a live one, so the mode to try after a failed condition on a counter with no limit.
    pub(crate) fn other(self) -> Self {
        match self {
            Mode::Increment => Mode::Restart,
            Mode::Restart => Mode::Increment,
        }
    }
}

/// One counter's share of a charge: a key charged several times in one call counts
/// several times, and each charge must fit under its own limit.
pub(crate) struct Counter {
    pub(crate) key: String,
    amount: u64,
    /// The count must stay below this before the charge (`None`: no limit).
    pub(crate) bound: Option<u64>,
    expires_at: Option<i64>,
}

/// The expression that writes a counter in `mode`, at time `now` (epoch seconds).
fn expression(counter: &Counter, mode: Mode, now: i64) -> (String, String, HashMap<String, AttributeValue>) {
    let mut values = HashMap::from([(":amount".to_owned(), n(counter.amount))]);
    let (update, condition) = match mode {
        Mode::Increment => {
            values.insert(":zero".into(), n(0));
            values.insert(":now".into(), n(now));
            let mut update = "SET n = if_not_exists(n, :zero) + :amount".to_owned();
            if let Some(at) = counter.expires_at {
                update.push_str(", expires_at = if_not_exists(expires_at, :expires)");
                values.insert(":expires".into(), n(at));
            }
            let mut condition = "(attribute_not_exists(expires_at) OR expires_at > :now)".to_owned();
            if let Some(bound) = counter.bound {
                condition.push_str(" AND (attribute_not_exists(n) OR n < :bound)");
                values.insert(":bound".into(), n(bound));
            }
            (update, condition)
        }
        Mode::Restart => {
            values.insert(":now".into(), n(now));
            let update = match counter.expires_at {
                Some(at) => {
                    values.insert(":expires".into(), n(at));
                    "SET n = :amount, expires_at = :expires".to_owned()
                }
                None => "SET n = :amount REMOVE expires_at".to_owned(),
            };
            (update, "expires_at <= :now".to_owned())
        }
    };
    (update, condition, values)
}

/// Why a counter's condition failed, judged from the item as it was.
pub(crate) enum Verdict {
    Full,
    Expired,
    Raced,
}

pub(crate) fn judge(item: Option<&Item>, counter: &Counter, now: i64) -> Result<Verdict, StoreError> {
    let Some(item) = item else { return Ok(Verdict::Raced) };
    if get_i64(item, EXPIRES_AT)?.is_some_and(|at| at <= now) {
        return Ok(Verdict::Expired);
    }
    let used = get_u64(item, "n")?.unwrap_or(0);
    Ok(match counter.bound {
        Some(bound) if used >= bound => Verdict::Full,
        _ => Verdict::Raced,
    })
}

fn epoch(at: Option<DateTime<Utc>>) -> Option<i64> {
    at.map(|at| at.timestamp())
}

/// A counter with no limit that `amount` is added to (token usage).
pub(crate) fn unbounded(key: &str, amount: u32, expires_at: Option<DateTime<Utc>>) -> Counter {
    Counter {
        key: key.to_owned(),
        amount: u64::from(amount),
        bound: None,
        expires_at: epoch(expires_at),
    }
}

/// Merges the charges by key, in order of first appearance.
pub(crate) fn counters(charges: &[QuotaCharge]) -> Vec<Counter> {
    let mut merged: Vec<Counter> = Vec::new();
    for charge in charges {
        match merged.iter_mut().find(|c| c.key == charge.key) {
            Some(counter) => {
                let bound = u64::from(charge.limit).saturating_sub(counter.amount);
                counter.bound = counter.bound.map(|b| b.min(bound));
                counter.amount += 1;
            }
            None => merged.push(Counter {
                key: charge.key.clone(),
                amount: 1,
                bound: Some(u64::from(charge.limit)),
                expires_at: epoch(charge.expires_at),
            }),
        }
    }
    merged
}

impl AwsStore {
    /// Writes one counter; `Ok(None)` when written, else the item as it was.
    async fn write_counter(&self, counter: &Counter, mode: Mode, now: i64) -> Result<Option<Option<Item>>, StoreError> {
        let (update, condition, values) = expression(counter, mode, now);
        let result = self
            .ddb
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::quota_pk(&counter.key), QUOTA_SK)))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(e) => match e.as_service_error() {
                Some(err) if err.is_conditional_check_failed_exception() => {
                    let old = match err {
                        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(
                            c,
                        ) => c.item().cloned(),
                        _ => None,
                    };
                    Ok(Some(old))
                }
                _ => Err(sdk_err(e)),
            },
        }
    }

    /// Writes all counters in one transaction; `Ok(None)` when written, else what each
    /// counter's condition said (`None` for those that passed or were not evaluated).
    async fn write_counters(
        &self,
        counters: &[Counter],
        modes: &[Mode],
        now: i64,
    ) -> Result<Option<Vec<(Option<String>, Option<Item>)>>, StoreError> {
        let mut request = self.ddb.transact_write_items();
        for (counter, mode) in counters.iter().zip(modes) {
            request = request.transact_items(self.counter_update(counter, *mode, now)?);
        }
        match request.send().await {
            Ok(_) => Ok(None),
            Err(e) => cancellation(&e).map(Some).ok_or_else(|| sdk_err(e)),
        }
    }

    /// One counter's write in `mode` as an item of a transaction; a failed condition
    /// returns the item as it was.
    pub(crate) fn counter_update(
        &self,
        counter: &Counter,
        mode: Mode,
        now: i64,
    ) -> Result<TransactWriteItem, StoreError> {
        let (update, condition, values) = expression(counter, mode, now);
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::quota_pk(&counter.key), QUOTA_SK)))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(other)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The item as it is now, for when a failed condition did not return it.
    pub(crate) async fn counter_item(&self, counter: &Counter) -> Result<Option<Item>, StoreError> {
        self.get_item(key(keys::quota_pk(&counter.key), QUOTA_SK)).await
    }
}

#[async_trait]
impl QuotaStore for AwsStore {
    #[tracing::instrument(level = "debug", skip_all, fields(charges = charges.len()))]
    async fn try_consume(&self, charges: &[QuotaCharge]) -> Result<QuotaOutcome, StoreError> {
        let counters = counters(charges);
        if let Some(full) = counters.iter().find(|c| c.bound == Some(0)) {
            return Ok(QuotaOutcome::Denied { key: full.key.clone() });
        }
        if counters.is_empty() {
            return Ok(QuotaOutcome::Granted);
        }
        let mut modes = vec![Mode::Increment; counters.len()];
        for attempt in 0..CONFLICT_RETRIES {
            let now = Utc::now().timestamp();
            // What each counter's failed condition found; empty when all were written.
            let failed: Vec<(usize, Option<Item>)> = if counters.len() == 1 {
                match self.write_counter(&counters[0], modes[0], now).await? {
                    None => Vec::new(),
                    Some(old) => vec![(0, old)],
                }
            } else {
                match self.write_counters(&counters, &modes, now).await? {
                    None => Vec::new(),
                    Some(reasons) => {
                        let failed: Vec<_> = reasons
                            .into_iter()
                            .enumerate()
                            .filter(|(_, (code, _))| code.as_deref() == Some("ConditionalCheckFailed"))
                            .map(|(i, (_, old))| (i, old))
                            .collect();
                        if failed.is_empty() {
                            // A conflict with a concurrent transaction: nothing was written.
                            backoff(attempt).await;
                            continue;
                        }
                        failed
                    }
                }
            };
            if failed.is_empty() {
                return Ok(QuotaOutcome::Granted);
            }
            let mut raced = false;
            for (i, old) in failed {
                let old = match old {
                    Some(old) => Some(old),
                    None => self.counter_item(&counters[i]).await?,
                };
                match judge(old.as_ref(), &counters[i], now)? {
                    Verdict::Full if modes[i] == Mode::Increment => {
                        return Ok(QuotaOutcome::Denied {
                            key: counters[i].key.clone(),
                        });
                    }
                    Verdict::Expired => modes[i] = Mode::Restart,
                    _ => {
                        modes[i] = Mode::Increment;
                        raced = true;
                    }
                }
            }
            if raced {
                backoff(attempt).await;
            }
        }
        Err(StoreError::Unavailable(
            "too many concurrent charges on one counter".into(),
        ))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(key))]
    async fn used(&self, key: &str) -> Result<u32, StoreError> {
        let now = Utc::now().timestamp();
        let Some(item) = self.get_item(crate::table::key(keys::quota_pk(key), QUOTA_SK)).await? else {
            return Ok(0);
        };
        if get_i64(&item, EXPIRES_AT)?.is_some_and(|at| at <= now) {
            return Ok(0);
        }
        // Token counters can outgrow a u32 in principle; they saturate.
        Ok(u32::try_from(get_u64(&item, "n")?.unwrap_or(0)).unwrap_or(u32::MAX))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(key, amount))]
    async fn add(&self, key: &str, amount: u32, expires_at: Option<DateTime<Utc>>) -> Result<(), StoreError> {
        let counter = unbounded(key, amount, expires_at);
        let mut mode = Mode::Increment;
        for attempt in 0..CONFLICT_RETRIES {
            let now = Utc::now().timestamp();
            match self.write_counter(&counter, mode, now).await? {
                None => return Ok(()),
                Some(_) => mode = mode.other(),
            }
            if attempt > 1 {
                backoff(attempt).await;
            }
        }
        Err(StoreError::Unavailable(
            "too many concurrent writers on one counter".into(),
        ))
    }

    /// One conditional decrement per key; a counter at zero or absent is left alone.
    #[tracing::instrument(level = "debug", skip_all)]
    async fn release(&self, keys: &[String]) -> Result<(), StoreError> {
        for counter in keys {
            let result = self
                .ddb
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(keys::quota_pk(counter), QUOTA_SK)))
                .update_expression("SET #n = #n - :one")
                .condition_expression("#n >= :one")
                .expression_attribute_names("#n", "n")
                .expression_attribute_values(":one", n(1))
                .send()
                .await;
            if let Err(e) = result {
                match e.as_service_error() {
                    Some(err) if err.is_conditional_check_failed_exception() => {}
                    _ => return Err(sdk_err(e)),
                }
            }
        }
        Ok(())
    }
}
