//! Reading Verdict accounts from a real cluster (feature `rpc`).

use anchor_lang::prelude::Pubkey;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;

use crate::accounts::AccountSource;
use crate::SdkError;

impl AccountSource for RpcClient {
    async fn account_data(&self, address: &Pubkey) -> Result<Option<Vec<u8>>, SdkError> {
        self.get_account_with_commitment(address, CommitmentConfig::confirmed())
            .await
            .map(|r| r.value.map(|a| a.data))
            .map_err(|e| SdkError::Client(e.to_string()))
    }
}
