//! Serde forms for chain types the database and the configuration store:
//! public keys as base58, completion reports as their fields, 32-byte
//! hashes as hex.

pub mod b58 {
    use anchor_lang::prelude::Pubkey;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(key: &Pubkey, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&key.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Pubkey, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

pub mod b58_opt {
    use anchor_lang::prelude::Pubkey;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(key: &Option<Pubkey>, s: S) -> Result<S::Ok, S::Error> {
        match key {
            Some(key) => s.serialize_some(&key.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Pubkey>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| text.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

pub mod b58_vec {
    use anchor_lang::prelude::Pubkey;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(keys: &[Pubkey], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(keys.iter().map(|k| k.to_string()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Pubkey>, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        texts
            .iter()
            .map(|t| t.parse().map_err(serde::de::Error::custom))
            .collect()
    }
}

pub mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(text).map_err(serde::de::Error::custom)?;
        bytes
            .try_into()
            .map_err(|_| serde::de::Error::custom("expected 32 bytes"))
    }
}

pub mod report_serde {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use verdict::attestation::CompletionReport;

    #[derive(Serialize, Deserialize)]
    struct Fields {
        #[serde(with = "super::hex32")]
        output_hash: [u8; 32],
        response_ms: u32,
        load_ms: u32,
        inference_ms: u32,
        success: bool,
        sla_met: bool,
        latency_score_bps: u16,
    }

    pub fn serialize<S: Serializer>(r: &CompletionReport, s: S) -> Result<S::Ok, S::Error> {
        Fields {
            output_hash: r.output_hash,
            response_ms: r.response_ms,
            load_ms: r.load_ms,
            inference_ms: r.inference_ms,
            success: r.success,
            sla_met: r.sla_met,
            latency_score_bps: r.latency_score_bps,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<CompletionReport, D::Error> {
        let f = Fields::deserialize(d)?;
        Ok(CompletionReport {
            output_hash: f.output_hash,
            response_ms: f.response_ms,
            load_ms: f.load_ms,
            inference_ms: f.inference_ms,
            success: f.success,
            sla_met: f.sla_met,
            latency_score_bps: f.latency_score_bps,
        })
    }
}
