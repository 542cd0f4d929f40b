//! End-to-end checks on all-MiniLM-L6-v2: reproducible hashes across miner processes, signatures, probes and embedding quality.

mod common;

use std::time::Duration;

use common::{request, require_real_model, spawn_miner, MINILM, TEST_MODEL};
use miner::api::{check_against, Agreement, Disagreement, InferResponse, VerifyError};
use verdict_models::minilm::MiniLm;

const TIMEOUT: Duration = Duration::from_secs(60);

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

#[tokio::test]
async fn honest_miners_agree_and_a_wrong_miner_does_not() {
    require_real_model();
    let (first, second, wrong) = tokio::join!(
        spawn_miner(&["--models", MINILM, "--generate-key"]),
        spawn_miner(&["--models", MINILM, "--generate-key"]),
        spawn_miner(&["--models", MINILM, "--generate-key", "--fault", "wrong"]),
    );
    let job = request(1, MINILM, "A man is eating food.");

    let from_first = first
        .client(TIMEOUT)
        .infer(&job)
        .await
        .expect("first miner answers");
    let from_second = second
        .client(TIMEOUT)
        .infer(&job)
        .await
        .expect("second miner answers");
    let from_wrong = wrong
        .client(TIMEOUT)
        .infer(&job)
        .await
        .expect("wrong miner still answers, signed");

    assert_eq!(from_first.output.shape, vec![384]);
    assert_eq!(
        from_first.output_hash, from_second.output_hash,
        "honest miners must agree bit for bit"
    );
    assert_eq!(from_first.output, from_second.output);
    assert_ne!(
        from_first.output_hash, from_wrong.output_hash,
        "the wrong miner's hash must differ"
    );
    assert_ne!(from_first.miner_pubkey, from_second.miner_pubkey);
    // Different keys, so the probes sit at different places.
    assert_ne!(from_first.probes, from_second.probes);

    // First request pays the cold load; the next one does not.
    assert!(from_first.load_time_ms > 0, "cold load should take time");
    let again = first
        .client(TIMEOUT)
        .infer(&request(2, MINILM, "A man is eating food."))
        .await
        .unwrap();
    assert_eq!(again.load_time_ms, 0);
    assert_eq!(
        again.output_hash, from_first.output_hash,
        "same input, same output, whatever the job"
    );

    // Signatures: valid from the node key the miner advertises, invalid once tampered with.
    let health = first.client(TIMEOUT).health().await.unwrap();
    assert_eq!(health.miner_pubkey, from_first.miner_pubkey);
    from_first.verify().expect("honest response verifies");
    from_wrong
        .verify()
        .expect("wrong response is still correctly signed");

    let mut tampered: InferResponse = from_first.clone();
    tampered.output = from_wrong.output.clone();
    tampered.output_hash = from_wrong.output_hash;
    assert_eq!(tampered.verify(), Err(VerifyError::BadSignature));
    let mut claimed_faster = from_first.clone();
    claimed_faster.inference_time_us /= 2;
    assert_eq!(claimed_faster.verify(), Err(VerifyError::BadSignature));
    let mut stolen = from_second.clone();
    stolen.miner_pubkey = from_first.miner_pubkey;
    assert_eq!(stolen.verify(), Err(VerifyError::BadSignature));
}

#[tokio::test]
async fn two_wrong_miners_are_wrong_differently() {
    require_real_model();
    let (one, two) = tokio::join!(
        spawn_miner(&["--models", MINILM, "--generate-key", "--fault", "wrong"]),
        spawn_miner(&["--models", MINILM, "--generate-key", "--fault", "wrong"]),
    );
    let job = request(3, MINILM, "A man is eating food.");
    let first = one.client(TIMEOUT).infer(&job).await.unwrap();
    let second = two.client(TIMEOUT).infer(&job).await.unwrap();
    assert_ne!(
        first.output_hash, second.output_hash,
        "independent faults must not agree"
    );
    let again = one.client(TIMEOUT).infer(&job).await.unwrap();
    assert_eq!(
        again.output_hash, first.output_hash,
        "a miner is wrong the same way each time it is asked"
    );
}

#[tokio::test]
async fn a_miner_with_room_for_one_model_reloads_on_every_switch() {
    require_real_model();
    let miner = spawn_miner(&[
        "--models",
        &format!("{MINILM},{TEST_MODEL}"),
        "--generate-key",
        "--max-loaded-models",
        "1",
    ])
    .await;
    let client = miner.client(TIMEOUT);
    let loaded = |models: miner::api::ModelsResponse| {
        models
            .models
            .into_iter()
            .filter(|m| m.loaded)
            .map(|m| m.id.to_string())
            .collect::<Vec<_>>()
    };
    let cold = client
        .infer(&request(10, MINILM, "A man is eating food."))
        .await
        .unwrap();
    let warm = client
        .infer(&request(11, MINILM, "A man is eating food."))
        .await
        .unwrap();
    assert!(cold.load_time_ms > 0, "the first request loads the weights");
    assert_eq!(warm.load_time_ms, 0, "then they stay in memory");
    assert_eq!(
        loaded(client.models().await.unwrap()),
        vec![MINILM.to_string()]
    );

    client
        .infer(&request(12, TEST_MODEL, "A man is eating food."))
        .await
        .unwrap();
    assert_eq!(
        loaded(client.models().await.unwrap()),
        vec![TEST_MODEL.to_string()],
        "MiniLM made room"
    );
    let reloaded = client
        .infer(&request(13, MINILM, "A man is eating food."))
        .await
        .unwrap();
    assert!(
        reloaded.load_time_ms > 0,
        "the switch back pays the load again"
    );
    assert_eq!(
        reloaded.output_hash, cold.output_hash,
        "a reload changes nothing in the answer"
    );
    assert_eq!(
        loaded(client.models().await.unwrap()),
        vec![MINILM.to_string()]
    );
}

#[tokio::test]
async fn a_validator_recomputes_outputs_and_probes() {
    let dir = require_real_model();
    let miner = spawn_miner(&["--models", MINILM, "--generate-key"]).await;
    let other = spawn_miner(&["--models", MINILM, "--generate-key"]).await;
    let job = request(7, MINILM, "Validators recompute what miners claim.");
    let honest = miner.client(TIMEOUT).infer(&job).await.unwrap();
    let other_answer = other.client(TIMEOUT).infer(&job).await.unwrap();

    let reference = tokio::task::spawn_blocking(move || {
        MiniLm::load(&dir)
            .unwrap()
            .run("Validators recompute what miners claim.")
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(check_against(&honest, &reference), Ok(Agreement::ExactHash));

    // A miner that copies another's answer and signs it itself is caught:
    // its key selects other probe positions than the ones it copied. (It
    // must claim to have sampled as itself: an answer whose sampled_as is
    // another key is a recheck, which a keeper does not accept as a job's
    // answer.)
    let mut copied = other_answer.clone();
    copied.miner_pubkey = honest.miner_pubkey;
    copied.sampled_as = honest.miner_pubkey;
    assert!(matches!(
        check_against(&copied, &reference),
        Err(Disagreement::ProbePosition { .. })
    ));
}

/// The scores sentence-transformers documents for this model in its
/// semantic-search example (query "A man is eating pasta.").
#[test]
fn embeddings_match_the_scores_sentence_transformers_publishes() {
    let model = MiniLm::load(&require_real_model()).expect("load MiniLM");
    let embed = |text: &str| model.run(text).expect("embed").embedding;
    let query = embed("A man is eating pasta.");
    let published = [
        ("A man is eating food.", 0.7035),
        ("A man is eating a piece of bread.", 0.5272),
        ("A man is riding a horse.", 0.1889),
        (
            "A man is riding a white horse on an enclosed ground.",
            0.1047,
        ),
        ("A cheetah is running behind its prey.", 0.0980),
    ];
    for (sentence, score) in published {
        let ours = cosine(&query, &embed(sentence));
        assert!(
            (ours - score).abs() < 1e-3,
            "{sentence:?}: ours {ours:.4}, published {score:.4}"
        );
    }
}

#[test]
fn embeddings_rank_similar_sentences_above_unrelated_ones() {
    let model = MiniLm::load(&require_real_model()).expect("load MiniLM");
    let embed = |text: &str| model.run(text).expect("embed").embedding;
    let eating = embed("A man is eating food.");
    let bread = embed("A man is eating a piece of bread.");
    let baby = embed("The girl is carrying a baby.");
    let guitar = embed("A man is playing a guitar.");
    let cheetah = embed("A cheetah is running behind its prey.");
    let cheetah_chasing = embed("A cheetah chases prey on across a field.");

    let norm: f32 = eating.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!(
        (norm - 1.0).abs() < 1e-4,
        "embeddings are unit length, got {norm}"
    );

    let related = cosine(&eating, &bread);
    assert!(related > 0.6, "eating vs bread = {related}");
    assert!(related > cosine(&eating, &baby) + 0.3);
    assert!(related > cosine(&eating, &guitar));
    assert!(cosine(&cheetah, &cheetah_chasing) > cosine(&cheetah, &eating) + 0.3);
    assert!(cosine(&eating, &baby) < 0.3);
}
