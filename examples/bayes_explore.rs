//! Classifier experiments on the training half only, for choosing what ships in
//! `src/bayes/` (the results are in `benches/compare/bayes.md`).
//!
//! Two folds of the training half (messages numbered 0 mod 4 and 2 mod 4, as `bayes_eval tune`
//! uses): each fold learns one quarter and scores the other, in memory, with the library's
//! tokenizer and [`classifier::classify`]. Both folds' scores are pooled and reported as the
//! false positives and spam caught at p > 0.5, the spam caught when at most 0.25% of ham may
//! score above the threshold (the issue's operating point), and 1 − ROC area.
//!
//! ```text
//! cargo run --release --example bayes_explore -- CORPUS_DIR
//! ```
//!
//! Knobs, as environment variables:
//!
//! - `TOKENS=bigrams,drop=PREFIX,...`: also emit pairs of adjacent body words (`B:a b`);
//!   drop tokens that start with PREFIX (`C:`, `R:`, `h:to:`, ...).
//! - `K="s,x,min_strength,max_tokens;..."`: Robinson/Fisher constants to compare (default:
//!   the shipped ones).
//! - `PASSES=N MARGIN=m`: after learning every message once, N passes of train-on-error
//!   (TONE): a message whose leave-one-out probability is further than `1 - m` from its
//!   class (for spam: below `1 - m`; for ham: above `m`) is learned once more.
//! - `LR=eta,epochs`: instead, an online logistic regression over the same tokens, as a
//!   discriminative baseline.
//! - `TOKENS=rawN[:BYTES]`: also learn every byte N-gram of the raw message (its first BYTES
//!   bytes) as a token.
//! - `NGRAM=n,bytes,eta,epochs[,words]`: instead, an online logistic regression over hashed,
//!   L2-normalized byte n-grams of the raw message (the TREC spam track's strongest
//!   filters: Goodman & Yih, Sculley); `words` 1 adds the tokenizer's tokens as features.
//!   With `MIX=w1,w2,...` it also prints the Robinson/Fisher scores (shipped constants,
//!   `PASSES`/`MARGIN`) mixed with it, `w·logit(bayes) + (1−w)·logit(lr)`.
//! - `SPLIT=test`: learn the whole training half and score the test half, to confirm on the
//!   issue's split a choice already made on the folds.
//! - `DUMP=n` (with `SPLIT=test` and `MIX`): list the n highest-scoring test ham and every
//!   test spam missed at the issue's operating point, with their files.

use mailwarden::bayes::classifier::{self, Constants, Totals};
use mailwarden::bayes::{Counts, Token, TokenRead, Tokenizer};
use mailwarden::{EngineBuilder, Envelope};
use std::collections::HashMap;
use std::path::Path;

#[path = "support/corpus.rs"]
mod corpus;
use corpus::{files, is_spam, number};

/// An in-memory token database.
#[derive(Default)]
struct MemDb {
    counts: HashMap<Token, (u32, u32)>,
    totals: Totals,
}

impl MemDb {
    /// Adds (or with `sign` -1 removes) one message's tokens.
    fn apply(&mut self, tokens: &[Token], spam: bool, sign: i32) {
        for t in tokens {
            let e = self.counts.entry(*t).or_default();
            let c = if spam { &mut e.0 } else { &mut e.1 };
            *c = c.saturating_add_signed(sign);
        }
        let c = if spam {
            &mut self.totals.spam
        } else {
            &mut self.totals.ham
        };
        *c = c.saturating_add_signed(i64::from(sign));
    }
}

impl TokenRead for MemDb {
    fn totals(&self) -> Totals {
        self.totals
    }
    fn counts(&self, token: Token) -> Counts {
        let (spam, ham) = self.counts.get(&token).copied().unwrap_or_default();
        Counts {
            spam,
            ham,
            atime: 0,
        }
    }
    fn len(&self) -> usize {
        self.counts.len()
    }
    fn for_each(&self, f: &mut dyn FnMut(Token, Counts)) {
        for (&t, &(spam, ham)) in &self.counts {
            f(
                t,
                Counts {
                    spam,
                    ham,
                    atime: 0,
                },
            );
        }
    }
}

struct Message {
    path: std::path::PathBuf,
    spam: bool,
    fold: u64,
    tokens: Vec<Token>,
    raw: Vec<u8>,
}

/// Applies the `TOKENS` knob to one message's tokens (in message order).
fn transform(knob: &str, words: Vec<String>) -> Vec<Token> {
    let drops: Vec<&str> = knob
        .split(',')
        .filter_map(|x| x.strip_prefix("drop="))
        .collect();
    let bigrams = knob.split(',').any(|x| x == "bigrams");
    let mut out = Vec::with_capacity(words.len() * 2);
    let mut prev: Option<&str> = None;
    for w in &words {
        // Body words are the tokens without a `prefix:`.
        if bigrams && !w.contains(':') {
            if let Some(p) = prev {
                out.push(mailwarden::bayes::tokenizer::hash(
                    format!("B:{p} {w}").as_bytes(),
                ));
            }
            prev = Some(w);
        }
        if !drops.iter().any(|d| w.starts_with(d)) {
            out.push(mailwarden::bayes::tokenizer::hash(w.as_bytes()));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// `(false positives at 0.5, ham, spam caught at 0.5, spam, spam caught within the 0.25% FP
/// budget, 1 - ROC area)` as one line.
fn report(scored: &[(bool, f64)]) -> String {
    let mut hams: Vec<f64> = scored.iter().filter(|s| !s.0).map(|s| s.1).collect();
    let spams: Vec<f64> = scored.iter().filter(|s| s.0).map(|s| s.1).collect();
    let fp = hams.iter().filter(|&&p| p > 0.5).count();
    let tp = spams.iter().filter(|&&p| p > 0.5).count();
    hams.sort_by(|a, b| b.total_cmp(a));
    let budget = hams.len() / 400;
    let t = hams.get(budget).copied().unwrap_or(0.0);
    let tp_budget = spams.iter().filter(|&&p| p > t).count();
    hams.reverse();
    let mut above = 0.0;
    for &p in &spams {
        let below = hams.partition_point(|&h| h < p);
        let ties = hams[below..].partition_point(|&h| h <= p);
        above += below as f64 + ties as f64 / 2.0;
    }
    let auc = above / (spams.len() as f64 * hams.len() as f64);
    format!(
        "p>0.5: FP {fp}/{} caught {tp}/{} | FP<={budget}: caught {tp_budget} (threshold {t:.3}) | 1-AUC {:.5}",
        hams.len(),
        spams.len(),
        1.0 - auc
    )
}

fn parse_constants(spec: &str) -> Vec<Constants> {
    spec.split(';')
        .map(|k| {
            let v: Vec<f64> = k
                .split(',')
                .map(|x| x.trim().parse().expect("K: numbers"))
                .collect();
            assert_eq!(v.len(), 4, "K: s,x,min_strength,max_tokens");
            Constants {
                unknown_word_strength: v[0],
                unknown_word_prob: v[1],
                min_prob_strength: v[2],
                max_discriminators: v[3] as usize,
                ..Constants::default()
            }
        })
        .collect()
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let corpus = std::env::args()
        .nth(1)
        .unwrap_or_else(|| panic!("usage: bayes_explore CORPUS_DIR"));
    let mut all = Vec::new();
    files(Path::new(&corpus), &mut all);
    let engine = EngineBuilder::new()
        .builtins(false)
        .build()
        .expect("engine");
    let tokenizer = Tokenizer::new();
    let knob = std::env::var("TOKENS").unwrap_or_default();
    let messages: Vec<Message> = all
        .iter()
        .filter(|p| test_split() || number(p).is_some_and(|n| n % 2 == 0))
        .map(|p| {
            let raw = std::fs::read(p).expect("corpus file");
            let mut words = Vec::new();
            engine.normalize_with(&raw, &Envelope::new(), |v| {
                tokenizer.each(v, &mut |t| words.push(t.to_string()))
            });
            Message {
                path: p.clone(),
                spam: is_spam(p),
                fold: if test_split() {
                    number(p).unwrap_or(0) % 2
                } else {
                    number(p).unwrap_or(0) % 4
                },
                tokens: with_raw_ngrams(&knob, transform(&knob, words), &raw),
                raw,
            }
        })
        .collect();
    if let Ok(spec) = std::env::var("NGRAM") {
        let v: Vec<f64> = spec.split(',').map(|x| x.parse().expect("NGRAM")).collect();
        println!(
            "NGRAM n={} bytes={} eta={} epochs={} words={}: {}",
            v[0],
            v[1],
            v[2],
            v[3],
            v.get(4).copied().unwrap_or(0.0),
            report(&ngram_lr(&messages, &v))
        );
        if let Ok(mix) = std::env::var("MIX") {
            let k = Constants::default();
            let (b, _) = bayes_scores(&messages, &k, env_num("PASSES", 0), env_num("MARGIN", 0.0));
            let l = ngram_lr(&messages, &v);
            let logit = |p: f64| {
                let p = p.clamp(1e-6, 1.0 - 1e-6);
                (p / (1.0 - p)).ln()
            };
            for wgt in mix.split(',').map(|x| x.parse::<f64>().expect("MIX")) {
                let mixed: Vec<(bool, f64)> = b
                    .iter()
                    .zip(&l)
                    .map(|(x, y)| {
                        let z = wgt * logit(x.1) + (1.0 - wgt) * logit(y.1);
                        (x.0, 1.0 / (1.0 + (-z).exp()))
                    })
                    .collect();
                println!("MIX bayes weight {wgt}: {}", report(&mixed));
                dump(&messages, &mixed);
            }
        }
        return;
    }
    if let Ok(lr) = std::env::var("LR") {
        let v: Vec<f64> = lr.split(',').map(|x| x.parse().expect("LR")).collect();
        println!(
            "TOKENS={knob} logistic regression eta={} epochs={}: {}",
            v[0],
            v[1],
            report(&logistic(&messages, v[0], v[1] as usize))
        );
        return;
    }
    let passes: usize = env_num("PASSES", 0);
    let margin: f64 = env_num("MARGIN", 0.0);
    let ks = std::env::var("K")
        .map(|s| parse_constants(&s))
        .unwrap_or_else(|_| vec![Constants::default()]);
    for k in ks {
        let (scored, relearned) = bayes_scores(&messages, &k, passes, margin);
        println!(
            "TOKENS={knob} s={} x={} min_strength={} max_tokens={} passes={passes} margin={margin} (relearned {relearned}): {}",
            k.unknown_word_strength,
            k.unknown_word_prob,
            k.min_prob_strength,
            k.max_discriminators,
            report(&scored)
        );
    }
}

/// Online logistic regression over binary token features (no regularization), epochs in a
/// fixed pseudo-random order.
fn logistic(messages: &[Message], eta: f64, epochs: usize) -> Vec<(bool, f64)> {
    let sigmoid = |z: f64| 1.0 / (1.0 + (-z).exp());
    let mut scored = Vec::new();
    for &fold in folds() {
        let mut w: HashMap<Token, f64> = HashMap::new();
        let mut bias = 0.0;
        let mut order: Vec<usize> = (0..messages.len())
            .filter(|&i| messages[i].fold == fold)
            .collect();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..epochs {
            shuffle(&mut order, &mut state);
            for &i in &order {
                let m = &messages[i];
                let z = bias
                    + m.tokens
                        .iter()
                        .map(|t| w.get(t).unwrap_or(&0.0))
                        .sum::<f64>();
                let g = f64::from(u8::from(m.spam)) - sigmoid(z);
                bias += eta * g;
                for t in &m.tokens {
                    *w.entry(*t).or_default() += eta * g;
                }
            }
        }
        for m in messages.iter().filter(|m| m.fold != fold) {
            let z = bias
                + m.tokens
                    .iter()
                    .map(|t| w.get(t).unwrap_or(&0.0))
                    .sum::<f64>();
            scored.push((m.spam, sigmoid(z)));
        }
    }
    scored
}

/// Hashed feature indices of one message: byte n-grams of its first `bytes` bytes, plus
/// (when `words` is set) its tokenizer tokens.
fn ngram_features(m: &Message, n: usize, bytes: usize, words: bool) -> Vec<u32> {
    const BITS: u32 = 22;
    let raw = &m.raw[..m.raw.len().min(bytes)];
    let mut f: Vec<u32> = raw
        .windows(n)
        .map(|w| (mailwarden::bayes::tokenizer::hash(w) >> (64 - BITS)) as u32)
        .collect();
    if words {
        f.extend(m.tokens.iter().map(|t| (t >> (64 - BITS)) as u32));
    }
    f.sort_unstable();
    f.dedup();
    f
}

/// Online logistic regression over binary, L2-normalized hashed features (Goodman & Yih;
/// Sculley's TREC filters), epochs in a fixed pseudo-random order.
fn ngram_lr(messages: &[Message], v: &[f64]) -> Vec<(bool, f64)> {
    let (n, bytes, eta, epochs) = (v[0] as usize, v[1] as usize, v[2], v[3] as usize);
    let words = v.get(4).is_some_and(|&w| w > 0.0);
    let feats: Vec<Vec<u32>> = messages
        .iter()
        .map(|m| ngram_features(m, n, bytes, words))
        .collect();
    let sigmoid = |z: f64| 1.0 / (1.0 + (-z).exp());
    let mut scored = Vec::new();
    for &fold in folds() {
        let mut w = vec![0f64; 1 << 22];
        let mut order: Vec<usize> = (0..messages.len())
            .filter(|&i| messages[i].fold == fold)
            .collect();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let score = |w: &[f64], f: &[u32]| {
            let norm = 1.0 / (f.len().max(1) as f64).sqrt();
            f.iter().map(|&i| w[i as usize]).sum::<f64>() * norm
        };
        for _ in 0..epochs {
            shuffle(&mut order, &mut state);
            for &i in &order {
                let f = &feats[i];
                let g = f64::from(u8::from(messages[i].spam)) - sigmoid(score(&w, f));
                let step = eta * g / (f.len().max(1) as f64).sqrt();
                for &j in f {
                    w[j as usize] += step;
                }
            }
        }
        for (i, m) in messages.iter().enumerate().filter(|(_, m)| m.fold != fold) {
            scored.push((m.spam, sigmoid(score(&w, &feats[i]))));
        }
    }
    scored
}

/// Robinson/Fisher scores of both folds, after `passes` of train on error.
fn bayes_scores(
    messages: &[Message],
    k: &Constants,
    passes: usize,
    margin: f64,
) -> (Vec<(bool, f64)>, usize) {
    let mut scored = Vec::new();
    let mut relearned = 0;
    for &fold in folds() {
        let mut db = MemDb::default();
        let mut weight: Vec<i32> = vec![0; messages.len()];
        for (i, m) in messages.iter().enumerate().filter(|(_, m)| m.fold == fold) {
            db.apply(&m.tokens, m.spam, 1);
            weight[i] = 1;
        }
        for _ in 0..passes {
            for (i, m) in messages.iter().enumerate().filter(|(_, m)| m.fold == fold) {
                // Leave-one-out: a message always looks right to a database that holds it.
                for _ in 0..weight[i] {
                    db.apply(&m.tokens, m.spam, -1);
                }
                let p = classifier::classify(&m.tokens, &db, k).unwrap_or(0.5);
                for _ in 0..weight[i] {
                    db.apply(&m.tokens, m.spam, 1);
                }
                let wrong = if m.spam { p < 1.0 - margin } else { p > margin };
                if wrong {
                    db.apply(&m.tokens, m.spam, 1);
                    weight[i] += 1;
                    relearned += 1;
                }
            }
        }
        for m in messages.iter().filter(|m| m.fold != fold) {
            scored.push((
                m.spam,
                classifier::classify(&m.tokens, &db, k).unwrap_or(0.5),
            ));
        }
    }
    (scored, relearned)
}

/// `TOKENS=rawN[:BYTES]`: adds the message's raw byte N-grams as tokens.
fn with_raw_ngrams(knob: &str, mut tokens: Vec<Token>, raw: &[u8]) -> Vec<Token> {
    let Some(spec) = knob.split(',').find_map(|x| x.strip_prefix("raw")) else {
        return tokens;
    };
    let mut it = spec.split(':');
    let n: usize = it.next().and_then(|x| x.parse().ok()).expect("rawN");
    let bytes: usize = it.next().and_then(|x| x.parse().ok()).unwrap_or(usize::MAX);
    let raw = &raw[..raw.len().min(bytes)];
    tokens.extend(
        raw.windows(n)
            .map(|w| mailwarden::bayes::tokenizer::hash(w) ^ 0x5555_5555_5555_5555),
    );
    tokens.sort_unstable();
    tokens.dedup();
    tokens
}

/// `DUMP=n` with `SPLIT=test`: prints the n highest-scoring ham and the spam scored below
/// the sixth-highest ham (the misses at the issue's operating point), with their files.
fn dump(messages: &[Message], scored: &[(bool, f64)]) {
    let n: usize = env_num("DUMP", 0);
    if n == 0 || !test_split() {
        return;
    }
    let tested: Vec<(&Message, f64)> = messages
        .iter()
        .filter(|m| m.fold != 0)
        .zip(scored)
        .map(|(m, s)| (m, s.1))
        .collect();
    let mut hams: Vec<&(&Message, f64)> = tested.iter().filter(|x| !x.0.spam).collect();
    hams.sort_by(|a, b| b.1.total_cmp(&a.1));
    let t = hams.get(hams.len() / 400).map_or(0.0, |x| x.1);
    for (m, p) in hams.iter().take(n) {
        println!("  ham  {p:.6} {}", m.path.display());
    }
    for (m, p) in tested.iter().filter(|x| x.0.spam && x.1 <= t) {
        println!("  miss {p:.6} {}", m.path.display());
    }
}

/// `SPLIT=test`: learn the whole training half, score the test half (the issue's split; for
/// confirming a choice made on the folds, never for making one).
fn test_split() -> bool {
    std::env::var("SPLIT").is_ok_and(|v| v == "test")
}

fn folds() -> &'static [u64] {
    if test_split() { &[0] } else { &[0, 2] }
}

/// Fisher-Yates with a xorshift generator: the same fixed pseudo-random epoch order on
/// every run.
fn shuffle(order: &mut [usize], state: &mut u64) {
    for i in (1..order.len()).rev() {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        order.swap(i, (*state % (i as u64 + 1)) as usize);
    }
}
