//! Durable keeper state in an embedded database (redb): the local mempool of
//! jobs with their input, progress, the outcome transaction about to be sent
//! (recorded before sending), and the verified output for the client; and,
//! apart from the mempool, every job's input kept as evidence until the
//! chain says no dispute can need it (rule 9).

use std::path::Path;

use anchor_lang::prelude::Pubkey;
use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};
use verdict::attestation::CompletionReport;
use verdict::state::{Job, RiskLevel};
pub use verdict_wire::keeper::JobFailure;
use verdict_wire::miner::{MinerReceipt, OutputTensor};

use crate::core::cosign::Evidence;
use crate::core::lifecycle::{Intent, Phase};
use crate::serde_helpers::{b58, b58_vec, hex32, report_serde};

const JOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("jobs");
const VOTES: TableDefinition<&str, &[u8]> = TableDefinition::new("votes");
/// Job -> its input (UTF-8), kept after the mempool record is purged.
const INPUTS: TableDefinition<&str, &[u8]> = TableDefinition::new("inputs");
/// Job -> the chain time at which to decide again whether its input is
/// still needed (0: every round). Small, so a sweep reads no inputs.
const RETENTION: TableDefinition<&str, i64> = TableDefinition::new("input_retention");

/// This keeper's vote in one dispute, kept so a restart reveals what it committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteRecord {
    #[serde(with = "b58")]
    pub dispute: Pubkey,
    #[serde(with = "hex32")]
    pub result: [u8; 32],
    #[serde(with = "hex32")]
    pub salt: [u8; 32],
    pub committed: bool,
    pub revealed: bool,
    pub claimed: bool,
    /// The program refused this keeper's commit (e.g. not eligible): not retried.
    #[serde(default)]
    pub refused: Option<String>,
}

pub use crate::error::StoreError;

fn dberr<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Db(e.to_string())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Risk {
    Low,
    Medium,
    High,
}

impl From<RiskLevel> for Risk {
    fn from(r: RiskLevel) -> Self {
        match r {
            RiskLevel::Low => Risk::Low,
            RiskLevel::Medium => Risk::Medium,
            RiskLevel::High => Risk::High,
        }
    }
}

impl From<Risk> for RiskLevel {
    fn from(r: Risk) -> Self {
        match r {
            Risk::Low => RiskLevel::Low,
            Risk::Medium => RiskLevel::Medium,
            Risk::High => RiskLevel::High,
        }
    }
}

/// The verified answer kept for the client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerifiedOutput {
    #[serde(with = "b58")]
    pub miner: Pubkey,
    pub output: OutputTensor,
    #[serde(with = "report_serde")]
    pub report: CompletionReport,
    /// The miner's signature over the output, for the client to check
    /// (absent when the output was taken from another member's view
    /// without one).
    #[serde(default)]
    pub receipt: Option<MinerReceipt>,
}

/// One outcome transaction the keeper sent (or found already applied).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostRecord {
    pub kind: String,
    pub result: String,
}

/// Everything the keeper knows about one job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    #[serde(with = "b58")]
    pub job: Pubkey,
    #[serde(with = "b58")]
    pub client: Pubkey,
    pub input: String,
    #[serde(with = "hex32")]
    pub input_hash: [u8; 32],
    pub model: String,
    pub risk: Risk,
    pub realtime: bool,
    pub phase: Phase,
    /// Unix seconds (keeper clock) when the current phase began.
    pub phase_since: i64,
    pub received_at: i64,
    /// Miners that failed this job, in order (never dispatched to again).
    #[serde(with = "b58_vec")]
    pub tried: Vec<Pubkey>,
    /// A fail attestation owed after the current assignment (the low-risk
    /// path assigns a failed miner only to penalize it).
    pub owed_fail: Option<Intent>,
    /// Recorded before sending; cleared once the chain shows it applied or
    /// superseded. A restarted keeper resumes from here.
    pub pending_post: Option<Intent>,
    pub posts: Vec<PostRecord>,
    /// Validated answer awaiting (or confirmed by) the chain.
    pub output: Option<VerifiedOutput>,
    pub failure: Option<JobFailure>,
    /// What the committee needs to re-check the pending or owed post: the
    /// last miner answer or failure.
    #[serde(default)]
    pub evidence: Option<Evidence>,
    /// This keeper re-ran the solved job (or decided not to sample it).
    #[serde(default)]
    pub rechecked: bool,
    /// The winning bid of the current attempt, when an auction placed it:
    /// the co-signers' evidence for its price.
    #[serde(default)]
    pub bid: Option<Box<verdict_wire::bid::Bid>>,
}

impl JobRecord {
    /// A job just handed in (by its client, or by another member).
    pub fn new(job: Pubkey, on_chain: &Job, input: String, realtime: bool, now: i64) -> Self {
        JobRecord {
            job,
            client: on_chain.client,
            input,
            input_hash: on_chain.input_hash,
            model: crate::core::model_name(&on_chain.model),
            risk: Risk::from(on_chain.risk()),
            realtime,
            phase: Phase::Queued,
            phase_since: now,
            received_at: now,
            tried: vec![],
            owed_fail: None,
            pending_post: None,
            posts: vec![],
            output: None,
            failure: None,
            evidence: None,
            rechecked: false,
            bid: None,
        }
    }
}

/// The database.
pub struct Store {
    db: Database,
}

impl Store {
    /// Opens (or creates) the database. A previous owner that is still
    /// shutting down holds the file lock for a moment: wait up to 2 s for it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut tries = 0;
        let db = loop {
            match Database::create(path) {
                Ok(db) => break db,
                Err(redb::DatabaseError::DatabaseAlreadyOpen) if tries < 40 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) => return Err(dberr(e)),
            }
        };
        let tx = db.begin_write().map_err(dberr)?;
        tx.open_table(JOBS).map_err(dberr)?;
        tx.open_table(VOTES).map_err(dberr)?;
        {
            // A database from before the evidence tables: keep the inputs it holds.
            let jobs = tx.open_table(JOBS).map_err(dberr)?;
            let mut inputs = tx.open_table(INPUTS).map_err(dberr)?;
            let mut retention = tx.open_table(RETENTION).map_err(dberr)?;
            for item in jobs.iter().map_err(dberr)? {
                let (k, v) = item.map_err(dberr)?;
                let Ok(record) = serde_json::from_slice::<JobRecord>(v.value()) else {
                    continue;
                };
                if inputs.get(k.value()).map_err(dberr)?.is_none() {
                    inputs
                        .insert(k.value(), record.input.as_bytes())
                        .map_err(dberr)?;
                    retention.insert(k.value(), 0).map_err(dberr)?;
                }
            }
        }
        tx.commit().map_err(dberr)?;
        Ok(Store { db })
    }

    /// Writes `value` under `key` durably (the commit is fsynced before returning).
    fn write<T: Serialize>(
        &self,
        table: TableDefinition<&str, &[u8]>,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).map_err(dberr)?;
        let tx = self.db.begin_write().map_err(dberr)?;
        {
            let mut table = tx.open_table(table).map_err(dberr)?;
            table.insert(key, bytes.as_slice()).map_err(dberr)?;
        }
        tx.commit().map_err(dberr)
    }

    fn read<T: serde::de::DeserializeOwned>(
        &self,
        table: TableDefinition<&str, &[u8]>,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let tx = self.db.begin_read().map_err(dberr)?;
        let table = tx.open_table(table).map_err(dberr)?;
        match table.get(key).map_err(dberr)? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(v.value())
                .map(Some)
                .map_err(|e| StoreError::Corrupt(key.to_string(), e.to_string())),
        }
    }

    /// Writes the job's record and, the first time, its input as evidence
    /// (in the same durable transaction).
    pub fn put(&self, record: &JobRecord) -> Result<(), StoreError> {
        let key = record.job.to_string();
        let bytes = serde_json::to_vec(record).map_err(dberr)?;
        let tx = self.db.begin_write().map_err(dberr)?;
        {
            let mut jobs = tx.open_table(JOBS).map_err(dberr)?;
            jobs.insert(key.as_str(), bytes.as_slice()).map_err(dberr)?;
            Self::keep_input(&tx, &key, &record.input, false)?;
        }
        tx.commit().map_err(dberr)
    }

    /// Stores `input` under `key` (replacing it when `replace`) and marks it
    /// for a retention decision next round.
    fn keep_input(
        tx: &redb::WriteTransaction,
        key: &str,
        input: &str,
        replace: bool,
    ) -> Result<(), StoreError> {
        let mut inputs = tx.open_table(INPUTS).map_err(dberr)?;
        if !replace && inputs.get(key).map_err(dberr)?.is_some() {
            return Ok(());
        }
        inputs.insert(key, input.as_bytes()).map_err(dberr)?;
        let mut retention = tx.open_table(RETENTION).map_err(dberr)?;
        retention.insert(key, 0).map_err(dberr)?;
        Ok(())
    }

    /// Keeps a job's input as evidence (e.g. fetched from a peer for a dispute).
    pub fn put_input(&self, job: &Pubkey, input: &str) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(dberr)?;
        Self::keep_input(&tx, &job.to_string(), input, true)?;
        tx.commit().map_err(dberr)
    }

    /// The input kept for `job`, if any.
    pub fn input(&self, job: &Pubkey) -> Result<Option<String>, StoreError> {
        let tx = self.db.begin_read().map_err(dberr)?;
        let table = tx.open_table(INPUTS).map_err(dberr)?;
        let key = job.to_string();
        match table.get(key.as_str()).map_err(dberr)? {
            None => Ok(None),
            Some(v) => String::from_utf8(v.value().to_vec())
                .map(Some)
                .map_err(|e| StoreError::Corrupt(key, e.to_string())),
        }
    }

    /// Inputs whose retention is due for a decision at chain time `now`,
    /// with the time recorded for each (0: decided every round).
    pub fn inputs_due(&self, now: i64) -> Result<Vec<(Pubkey, i64)>, StoreError> {
        let tx = self.db.begin_read().map_err(dberr)?;
        let table = tx.open_table(RETENTION).map_err(dberr)?;
        let mut due = Vec::new();
        for item in table.iter().map_err(dberr)? {
            let (k, v) = item.map_err(dberr)?;
            if v.value() <= now {
                let key = k.value().parse().map_err(|_| {
                    StoreError::Corrupt(k.value().to_string(), "not a job key".into())
                })?;
                due.push((key, v.value()));
            }
        }
        Ok(due)
    }

    /// Decide on the job's input again at chain time `at` (0: next round).
    pub fn retain_input_until(&self, job: &Pubkey, at: i64) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(dberr)?;
        {
            let mut retention = tx.open_table(RETENTION).map_err(dberr)?;
            retention
                .insert(job.to_string().as_str(), at)
                .map_err(dberr)?;
        }
        tx.commit().map_err(dberr)
    }

    pub fn remove_input(&self, job: &Pubkey) -> Result<(), StoreError> {
        let key = job.to_string();
        let tx = self.db.begin_write().map_err(dberr)?;
        {
            tx.open_table(INPUTS)
                .map_err(dberr)?
                .remove(key.as_str())
                .map_err(dberr)?;
            tx.open_table(RETENTION)
                .map_err(dberr)?
                .remove(key.as_str())
                .map_err(dberr)?;
        }
        tx.commit().map_err(dberr)
    }

    /// How many inputs are kept as evidence.
    pub fn input_count(&self) -> Result<u64, StoreError> {
        let tx = self.db.begin_read().map_err(dberr)?;
        let table = tx.open_table(RETENTION).map_err(dberr)?;
        table.len().map_err(dberr)
    }

    pub fn get(&self, job: &Pubkey) -> Result<Option<JobRecord>, StoreError> {
        self.read(JOBS, &job.to_string())
    }

    pub fn all(&self) -> Result<Vec<JobRecord>, StoreError> {
        let tx = self.db.begin_read().map_err(dberr)?;
        let table = tx.open_table(JOBS).map_err(dberr)?;
        let mut out = Vec::new();
        for item in table.iter().map_err(dberr)? {
            let (k, v) = item.map_err(dberr)?;
            out.push(
                serde_json::from_slice(v.value())
                    .map_err(|e| StoreError::Corrupt(k.value().to_string(), e.to_string()))?,
            );
        }
        Ok(out)
    }

    /// Purges the job's mempool record; its input stays as evidence.
    pub fn remove(&self, job: &Pubkey) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(dberr)?;
        {
            let mut table = tx.open_table(JOBS).map_err(dberr)?;
            table.remove(job.to_string().as_str()).map_err(dberr)?;
        }
        tx.commit().map_err(dberr)
    }

    pub fn put_vote(&self, vote: &VoteRecord) -> Result<(), StoreError> {
        self.write(VOTES, &vote.dispute.to_string(), vote)
    }

    pub fn vote(&self, dispute: &Pubkey) -> Result<Option<VoteRecord>, StoreError> {
        self.read(VOTES, &dispute.to_string())
    }

    /// A real read, for `/health`: returns how many jobs are stored.
    pub fn count(&self) -> Result<u64, StoreError> {
        let tx = self.db.begin_read().map_err(dberr)?;
        let table = tx.open_table(JOBS).map_err(dberr)?;
        table.len().map_err(dberr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn record(job: Pubkey) -> JobRecord {
        JobRecord {
            job,
            client: Pubkey::new_unique(),
            input: "hello".into(),
            input_hash: [3; 32],
            model: "test-projection-v1".into(),
            risk: Risk::High,
            realtime: true,
            phase: Phase::Queued,
            phase_since: 1,
            received_at: 1,
            tried: vec![Pubkey::new_unique()],
            owed_fail: None,
            pending_post: Some(Intent::Expire),
            posts: vec![],
            output: None,
            failure: None,
            evidence: Some(Evidence {
                input: Some("hello".into()),
                response: None,
                response_ms: 7,
                bid: None,
            }),
            rechecked: false,
            bid: None,
        }
    }

    #[test]
    fn records_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        let job = Pubkey::new_unique();
        let written = record(job);
        {
            let store = Store::open(&path).unwrap();
            store.put(&written).unwrap();
            assert_eq!(store.count().unwrap(), 1);
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.get(&job).unwrap(), Some(written));
        assert_eq!(store.all().unwrap().len(), 1);
        store.remove(&job).unwrap();
        assert_eq!(store.get(&job).unwrap(), None);
    }

    #[test]
    fn an_input_outlives_its_mempool_record_until_it_is_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        let (job, fetched) = (Pubkey::new_unique(), Pubkey::new_unique());
        {
            let store = Store::open(&path).unwrap();
            store.put(&record(job)).unwrap();
            store.remove(&job).unwrap();
            assert_eq!(
                store.input(&job).unwrap().as_deref(),
                Some("hello"),
                "purging the record keeps the input"
            );
            store.put_input(&fetched, "from a peer").unwrap();
            assert_eq!(
                store.inputs_due(0).unwrap().len(),
                2,
                "new inputs are decided next round"
            );
            store.retain_input_until(&job, 500).unwrap();
            assert_eq!(store.inputs_due(499).unwrap(), vec![(fetched, 0)]);
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.input(&fetched).unwrap().as_deref(),
            Some("from a peer"),
            "durable"
        );
        assert_eq!(store.input_count().unwrap(), 2);
        assert_eq!(store.inputs_due(500).unwrap().len(), 2);
        store.remove_input(&job).unwrap();
        assert_eq!(store.input(&job).unwrap(), None);
        assert_eq!(store.input_count().unwrap(), 1);
    }

    #[test]
    fn a_database_from_before_the_evidence_tables_keeps_its_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        let job = Pubkey::new_unique();
        {
            // Only the jobs table, as an older keeper wrote it.
            let db = Database::create(&path).unwrap();
            let tx = db.begin_write().unwrap();
            tx.open_table(JOBS)
                .unwrap()
                .insert(
                    job.to_string().as_str(),
                    serde_json::to_vec(&record(job)).unwrap().as_slice(),
                )
                .unwrap();
            tx.commit().unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.input(&job).unwrap().as_deref(), Some("hello"));
        assert_eq!(store.inputs_due(0).unwrap(), vec![(job, 0)]);
    }
}
