//! [`QuotaStore`]: counters charged all or nothing inside one write transaction.

use async_trait::async_trait;
use chrono::Utc;
use parley_core::StoreError;
use parley_core::ports::QuotaStore;
use parley_core::quota::{QuotaCharge, QuotaOutcome};
use rusqlite::{Connection, Transaction, TransactionBehavior, params};

use crate::{SqliteStore, db_err, exec, first_row};

/// Checks and increments one charge at a time inside `tx`, so a key charged twice in one
/// call counts twice. Returns the key of the first counter at its limit, after which the
/// caller must drop `tx` uncommitted to roll back the increments already made.
///
/// One statement per charge: the upsert increments only a counter below its limit (an
/// expired one counts as zero and starts over with the charge's expiry), and returns
/// no row when it refused.
pub(crate) fn consume(tx: &Transaction<'_>, charges: &[QuotaCharge], now: i64) -> Result<Option<String>, StoreError> {
    for charge in charges {
        let charged = first_row(
            tx,
            "INSERT INTO quotas (key, used, expires_at) SELECT ?1, 1, ?2 WHERE ?4 > 0
             ON CONFLICT (key) DO UPDATE SET
                 used = CASE WHEN expires_at IS NOT NULL AND expires_at <= ?3 THEN 1 ELSE used + 1 END,
                 expires_at = CASE WHEN expires_at IS NOT NULL AND expires_at <= ?3
                                   THEN excluded.expires_at ELSE expires_at END
             WHERE CASE WHEN expires_at IS NOT NULL AND expires_at <= ?3 THEN 0 ELSE used END < ?4
             RETURNING used",
            params![
                charge.key,
                charge.expires_at.map(|at| at.timestamp_millis()),
                now,
                charge.limit
            ],
            |_| Ok(()),
        )?;
        if charged.is_none() {
            tracing::debug!(key = charge.key, limit = charge.limit, "quota refused");
            return Ok(Some(charge.key.clone()));
        }
    }
    Ok(None)
}

/// Adds `amount` to the counter `key` (see [`QuotaStore::add`]), with the expiry rule of
/// [`consume`]: an expired counter starts over.
pub(crate) fn add(
    conn: &Connection,
    key: &str,
    amount: u32,
    expires_at: Option<chrono::DateTime<Utc>>,
    now: i64,
) -> Result<(), StoreError> {
    exec(
        conn,
        "INSERT INTO quotas (key, used, expires_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET
             used = CASE WHEN expires_at IS NOT NULL AND expires_at <= ?4 THEN ?2 ELSE used + ?2 END,
             expires_at = CASE WHEN expires_at IS NOT NULL AND expires_at <= ?4
                               THEN excluded.expires_at ELSE expires_at END",
        params![key, amount, expires_at.map(|at| at.timestamp_millis()), now],
    )?;
    Ok(())
}

#[async_trait]
impl QuotaStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all, fields(charges = charges.len()))]
    async fn try_consume(&self, charges: &[QuotaCharge]) -> Result<QuotaOutcome, StoreError> {
        let charges = charges.to_vec();
        self.run(move |conn| {
            let now = Utc::now().timestamp_millis();
            // IMMEDIATE takes the write lock before the first read, so no other writer
            // can slip in between reading a counter and incrementing it.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err)?;
            if let Some(key) = consume(&tx, &charges, now)? {
                // Dropping the transaction rolls back the increments already made.
                return Ok(QuotaOutcome::Denied { key });
            }
            tx.commit().map_err(db_err)?;
            Ok(QuotaOutcome::Granted)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(key))]
    async fn used(&self, key: &str) -> Result<u32, StoreError> {
        let key = key.to_owned();
        self.read(move |conn| {
            let now = Utc::now().timestamp_millis();
            let used: Option<i64> = first_row(
                conn,
                "SELECT used FROM quotas WHERE key = ?1 AND (expires_at IS NULL OR expires_at > ?2)",
                params![key, now],
                |row| row.get(0),
            )?;
            // Token counters can outgrow a u32 in principle; they saturate.
            Ok(u32::try_from(used.unwrap_or(0).max(0)).unwrap_or(u32::MAX))
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(key, amount))]
    async fn add(&self, key: &str, amount: u32, expires_at: Option<chrono::DateTime<Utc>>) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.run(move |conn| add(conn, &key, amount, expires_at, Utc::now().timestamp_millis()))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn release(&self, keys: &[String]) -> Result<(), StoreError> {
        let keys = keys.to_vec();
        self.run(move |conn| {
            // One commit for all of them.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err)?;
            for key in &keys {
                exec(
                    &tx,
                    "UPDATE quotas SET used = used - 1 WHERE key = ?1 AND used > 0",
                    [key],
                )?;
            }
            tx.commit().map_err(db_err)
        })
        .await
    }
}
