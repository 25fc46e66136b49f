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
//! - `NGRAM=n,bytes,eta,epochs[,words[,hinge]]`: instead, an online logistic regression over
//!   hashed, L2-normalized byte n-grams of the raw message (the TREC spam track's strongest
//!   filters: Goodman & Yih, Sculley); `words` 1 adds the tokenizer's tokens as features, 2
//!   the orthogonal sparse bigrams of the body words (CRM114's OSB: each word paired with
//!   each of the four before it, distance included), 3 both. `hinge` 1 trains with a
//!   hinge loss instead (a large-margin perceptron, after Sculley's relaxed online SVM: a
//!   step of `eta` whenever a message is within margin 1), reported as `logit = 4·score/eta`.
//! - `PPM=orders,bytes[,amdl[,scale]]`: instead, or besides, the compression classifier
//!   (after Bratko et al. 2006): one adaptive model of the raw bytes per class (bitwise
//!   context mixing over the contexts of the last 0..=`orders` bytes, in hashed tables),
//!   each learning its class's messages (their first `bytes` bytes) in corpus order; a
//!   message scores `scale · (bits per byte under ham − bits per byte under spam)` (MDL;
//!   `scale` 10 by default), through a logistic. `amdl` 1 lets each model adapt to the
//!   message while scoring it, then forgets it (AMDL). `PPMBITS` (22: 2 x 256 MB of tables),
//!   `PPMLIMIT` (255: the count at which a node's learning rate stops falling), `PPMLR`
//!   (0.02: the mixer's learning rate) and `PPMNORM=0` (total bits / 1000 instead of bits
//!   per byte) tune it.
//! - `MIX=w1,w2,...` (with `NGRAM` and/or `PPM`): also print the Robinson/Fisher scores
//!   (shipped constants, `PASSES`/`MARGIN`) mixed with them in log-odds. A single weight
//!   `w` mixes `w·logit(bayes) + (1−w)·logit(other)` with the n-gram model (or, without
//!   `NGRAM`, with `PPM`); three, `wb:wl:wp`, mix Bayes, the n-gram model and `PPM`.
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
    /// Orthogonal sparse bigrams of the body words (with `NGRAM`'s `words` 2).
    osb: Vec<Token>,
    raw: Vec<u8>,
}

/// Orthogonal sparse bigrams (CRM114's OSB): each body word paired with each of the four
/// before it, the distance part of the pair.
fn osb(words: &[String]) -> Vec<Token> {
    let body: Vec<&str> = words
        .iter()
        .filter(|w| !w.contains(':'))
        .map(String::as_str)
        .collect();
    let mut out = Vec::with_capacity(body.len() * 4);
    for (i, w) in body.iter().enumerate() {
        for d in 1..=4.min(i) {
            out.push(mailwarden::bayes::tokenizer::hash(
                format!("O{d}:{} {w}", body[i - d]).as_bytes(),
            ));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
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
                osb: if ngram_words() & 2 != 0 {
                    osb(&words)
                } else {
                    Vec::new()
                },
                tokens: with_raw_ngrams(&knob, transform(&knob, words), &raw),
                raw,
            }
        })
        .collect();
    let ngram: Option<Vec<f64>> = std::env::var("NGRAM")
        .ok()
        .map(|s| s.split(',').map(|x| x.parse().expect("NGRAM")).collect());
    let ppm: Option<Vec<f64>> = std::env::var("PPM")
        .ok()
        .map(|s| s.split(',').map(|x| x.parse().expect("PPM")).collect());
    if ngram.is_some() || ppm.is_some() {
        let l = ngram.map(|v| {
            let l = ngram_lr(&messages, &v);
            println!(
                "NGRAM n={} bytes={} eta={} epochs={} words={}: {}",
                v[0],
                v[1],
                v[2],
                v[3],
                v.get(4).copied().unwrap_or(0.0),
                report(&l)
            );
            l
        });
        let c = ppm.map(|v| {
            let c = ppm_scores(&messages, &v);
            println!("PPM {v:?}: {}", report(&c));
            c
        });
        if let Ok(mix) = std::env::var("MIX") {
            let k = Constants::default();
            let (b, _) = bayes_scores(&messages, &k, env_num("PASSES", 0), env_num("MARGIN", 0.0));
            let logit = |p: f64| {
                let p = p.clamp(1e-6, 1.0 - 1e-6);
                (p / (1.0 - p)).ln()
            };
            for spec in mix.split(',') {
                let w: Vec<f64> = spec.split(':').map(|x| x.parse().expect("MIX")).collect();
                // One weight: Bayes against the other model present; three: Bayes:LR:PPM.
                let w = match (w.len(), &l) {
                    (1, Some(_)) => [w[0], 1.0 - w[0], 0.0],
                    (1, None) => [w[0], 0.0, 1.0 - w[0]],
                    _ => [w[0], w[1], w[2]],
                };
                let mixed: Vec<(bool, f64)> = (0..b.len())
                    .map(|i| {
                        let z = w[0] * logit(b[i].1)
                            + l.as_ref().map_or(0.0, |l| w[1] * logit(l[i].1))
                            + c.as_ref().map_or(0.0, |c| w[2] * logit(c[i].1));
                        (b[i].0, squash(z))
                    })
                    .collect();
                println!(
                    "MIX bayes:lr:ppm {}:{}:{}: {}",
                    w[0],
                    w[1],
                    w[2],
                    report(&mixed)
                );
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
/// (`words` bit 1) its tokenizer tokens and (bit 2) its OSB word pairs.
fn ngram_features(m: &Message, n: usize, bytes: usize, words: u32) -> Vec<u32> {
    const BITS: u32 = 22;
    let raw = &m.raw[..m.raw.len().min(bytes)];
    let mut f: Vec<u32> = raw
        .windows(n)
        .map(|w| (mailwarden::bayes::tokenizer::hash(w) >> (64 - BITS)) as u32)
        .collect();
    if words & 1 != 0 {
        f.extend(m.tokens.iter().map(|t| (t >> (64 - BITS)) as u32));
    }
    if words & 2 != 0 {
        f.extend(m.osb.iter().map(|t| (t >> (64 - BITS)) as u32));
    }
    f.sort_unstable();
    f.dedup();
    f
}

/// Online logistic regression over binary, L2-normalized hashed features (Goodman & Yih;
/// Sculley's TREC filters), epochs in a fixed pseudo-random order.
fn ngram_lr(messages: &[Message], v: &[f64]) -> Vec<(bool, f64)> {
    let (n, bytes, eta, epochs) = (v[0] as usize, v[1] as usize, v[2], v[3] as usize);
    let words = v.get(4).copied().unwrap_or(0.0) as u32;
    let hinge = v.get(5).is_some_and(|&h| h > 0.0);
    // A hinge-trained score grows with eta (its margin is 1): brought back to the scale
    // of the logistic one (±4 at the margin for eta 1) so that it does not saturate.
    let out = if hinge { 4.0 / eta } else { 1.0 };
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
                let z = score(&w, f);
                let g = if !hinge {
                    f64::from(u8::from(messages[i].spam)) - sigmoid(z)
                } else if messages[i].spam {
                    f64::from(u8::from(z < 1.0))
                } else {
                    -f64::from(u8::from(z > -1.0))
                };
                let step = eta * g / (f.len().max(1) as f64).sqrt();
                for &j in f {
                    w[j as usize] += step;
                }
            }
        }
        for (i, m) in messages.iter().enumerate().filter(|(_, m)| m.fold != fold) {
            scored.push((m.spam, sigmoid(out * score(&w, &feats[i]))));
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

/// `NGRAM`'s fifth number, `words`.
fn ngram_words() -> u32 {
    std::env::var("NGRAM")
        .ok()
        .and_then(|s| s.split(',').nth(4).and_then(|w| w.parse::<f64>().ok()))
        .unwrap_or(0.0) as u32
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

/// Sixteen nodes of one hashed context: node 0 holds a check of the context hash, nodes
/// 1..=15 the binary tree of a nibble (1, then 2 + bit, then 4 + two bits, then 8 + three
/// bits), each a probability of a 1 in the high 22 bits and a count in the low 10 (count 0:
/// never seen). One cache line serves four bit predictions.
#[derive(Clone, Copy, Default)]
#[repr(align(64))]
struct Bucket([u32; 16]);

/// One class's adaptive model of raw message bytes for the compression classifier
/// (`PPM`): each bit is predicted from the contexts of the last 0..=`orders` bytes (and the
/// bits of the current byte seen so far), each context's prediction is a node of a hashed
/// table, and a logistic mixer, with one weight set per highest order seen, blends them.
/// A simpler relative of PPM (Bratko et al. 2006) in the style of the PAQ compressors.
struct CmModel {
    orders: usize,
    limit: u32,
    lr: f64,
    buckets: Vec<Bucket>,
    weights: Vec<f64>,
    /// While scoring with AMDL: every bucket as it was before the message touched it.
    undo: Option<Vec<(usize, Bucket)>>,
    /// `stretch` of the 4,096 probabilities at the middle of 12-bit steps, clamped to ±8.
    stretch: Vec<f64>,
}

fn stretch(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

fn squash(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Bit 1 of a bucket's check: saved for undo since the scored message began (AMDL).
const TOUCHED: u32 = 2;

/// splitmix64's finalizer: the high half picks the bucket, the low half checks it.
fn finish(mut h: u64) -> u64 {
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

impl CmModel {
    fn new(orders: usize, bits: u32, limit: u32, lr: f64) -> Self {
        let inputs = orders + 2;
        CmModel {
            orders,
            limit: limit.min(1023),
            lr,
            buckets: vec![Bucket::default(); 1 << bits],
            weights: vec![0.3; inputs * (orders + 2)],
            undo: None,
            stretch: (0..4096)
                .map(|i| stretch((f64::from(i) + 0.5) / 4096.0).clamp(-8.0, 8.0))
                .collect(),
        }
    }

    /// The bucket of context hash `h`: one of two neighbours whose check matches; when
    /// learning and neither does, the one whose first node has seen less is replaced.
    fn find(&mut self, h: u64, learn: bool) -> Option<usize> {
        let check = (h as u32 | 1) & !TOUCHED;
        let i = (h >> 32) as usize & (self.buckets.len() - 1);
        let j = i ^ 1;
        let found = if self.buckets[i].0[0] & !TOUCHED == check {
            i
        } else if self.buckets[j].0[0] & !TOUCHED == check {
            j
        } else if !learn {
            return None;
        } else {
            let victim = if self.buckets[i].0[1] & 1023 <= self.buckets[j].0[1] & 1023 {
                i
            } else {
                j
            };
            self.save(victim);
            self.buckets[victim] = Bucket::default();
            self.buckets[victim].0[0] = check;
            victim
        };
        if learn {
            self.save(found);
        }
        Some(found)
    }

    /// With AMDL, keeps a bucket as it was before the scored message first touched it.
    fn save(&mut self, i: usize) {
        if let Some(u) = &mut self.undo
            && self.buckets[i].0[0] & TOUCHED == 0
        {
            u.push((i, self.buckets[i]));
            self.buckets[i].0[0] |= TOUCHED;
        }
    }

    /// The cost of `data` in bits; with `learn`, the model adapts to it as it goes.
    fn code(&mut self, data: &[u8], learn: bool) -> f64 {
        let n_in = self.orders + 2;
        let mut bits = 0.0;
        let mut hashes = vec![0u64; self.orders + 1];
        let mut idx: Vec<Option<usize>> = vec![None; self.orders + 1];
        let mut s = vec![0.0; n_in];
        for (pos, &byte) in data.iter().enumerate() {
            for (k, h) in hashes.iter_mut().enumerate() {
                let mut x = (k as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                for &b in &data[pos.saturating_sub(k)..pos] {
                    x = (x ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3_0001);
                }
                *h = x;
            }
            for half in 0..2 {
                let hi = if half == 0 {
                    0
                } else {
                    u64::from(byte >> 4) + 1
                };
                for k in 0..=self.orders {
                    let found = self.find(
                        finish(hashes[k] ^ hi.wrapping_mul(0x2545_f491_4f6c_dd1d)),
                        learn,
                    );
                    idx[k] = found;
                }
                let mut node = 1usize;
                for j in 0..4 {
                    let bit = (byte >> (7 - (half * 4 + j))) & 1;
                    let mut sel = 0;
                    for k in 0..=self.orders {
                        s[k] = 0.0;
                        if let Some(b) = idx[k] {
                            let v = self.buckets[b].0[node];
                            if v & 1023 != 0 {
                                sel = k + 1;
                                s[k] = self.stretch[(v >> 20) as usize];
                            }
                        }
                    }
                    s[self.orders + 1] = 0.25;
                    let w = &mut self.weights[sel * n_in..(sel + 1) * n_in];
                    let dot: f64 = w.iter().zip(&s).map(|(a, b)| a * b).sum();
                    let p = squash(dot).clamp(1.0 / 4096.0, 1.0 - 1.0 / 4096.0);
                    bits -= if bit == 1 { p.log2() } else { (1.0 - p).log2() };
                    if learn {
                        let err = f64::from(bit) - p;
                        for (wi, si) in w.iter_mut().zip(&s) {
                            *wi += self.lr * err * si;
                        }
                        for b in idx.iter().flatten() {
                            let v = &mut self.buckets[*b].0[node];
                            let n = *v & 1023;
                            let q = if n == 0 {
                                0.5
                            } else {
                                f64::from(*v >> 10) / f64::from(1u32 << 22)
                            };
                            let q = q + (f64::from(bit) - q) / (f64::from(n) + 1.5);
                            let q = ((q * f64::from(1u32 << 22)) as u32).min((1 << 22) - 1);
                            *v = (q << 10) | (n + 1).min(self.limit);
                        }
                    }
                    node = node * 2 + usize::from(bit);
                }
            }
        }
        bits
    }

    /// The cost of `data` in bits: under the model as it is (MDL), or (AMDL) adapting to
    /// `data` as it goes and then forgetting it.
    fn cost(&mut self, data: &[u8], adaptive: bool) -> f64 {
        if !adaptive {
            return self.code(data, false);
        }
        let weights = self.weights.clone();
        self.undo = Some(Vec::new());
        let bits = self.code(data, true);
        for (i, b) in self.undo.take().unwrap_or_default().into_iter().rev() {
            self.buckets[i] = b;
        }
        self.weights = weights;
        bits
    }
}

/// `PPM=orders,bytes,amdl,scale`: the compression classifier's scores. Per fold, one model
/// learns the ham and one the spam (the first `bytes` bytes of each raw message, in corpus
/// order); a message scores `scale · (bits per byte under ham − bits per byte under spam)`,
/// through a logistic.
fn ppm_scores(messages: &[Message], v: &[f64]) -> Vec<(bool, f64)> {
    let (orders, bytes) = (v[0] as usize, v[1] as usize);
    let adaptive = v.get(2).is_some_and(|&a| a > 0.0);
    let scale = v.get(3).copied().unwrap_or(10.0);
    let bits: u32 = env_num("PPMBITS", 22);
    let limit: u32 = env_num("PPMLIMIT", 255);
    let lr: f64 = env_num("PPMLR", 0.02);
    let per_message = env_num("PPMNORM", 1) == 0;
    let mut scored = Vec::new();
    let (mut learn_time, mut score_time) = (0.0, 0.0);
    for &fold in folds() {
        let t = std::time::Instant::now();
        let mut models = [false, true].map(|_| CmModel::new(orders, bits, limit, lr));
        for m in messages.iter().filter(|m| m.fold == fold) {
            models[usize::from(m.spam)].code(&m.raw[..m.raw.len().min(bytes)], true);
        }
        learn_time += t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        for m in messages.iter().filter(|m| m.fold != fold) {
            let data = &m.raw[..m.raw.len().min(bytes)];
            let per_byte = |c: f64| {
                if per_message {
                    c / 1000.0
                } else {
                    c / data.len().max(1) as f64
                }
            };
            let ham = per_byte(models[0].cost(data, adaptive));
            let spam = per_byte(models[1].cost(data, adaptive));
            scored.push((m.spam, squash(scale * (ham - spam))));
        }
        score_time += t.elapsed().as_secs_f64();
    }
    eprintln!(
        "PPM: learning {learn_time:.1} s, scoring {score_time:.1} s, tables 2 x {} MB",
        (64usize << bits) >> 20
    );
    scored
}

#[cfg(test)]
mod tests {
    use super::CmModel;

    /// AMDL scoring leaves the model as it found it: the same cost twice, the same tables
    /// and mixer after, and a cost below the frozen (MDL) one for a repetitive message.
    #[test]
    fn amdl_forgets_the_scored_message() {
        let mut m = CmModel::new(4, 10, 30, 0.02);
        m.code(
            b"Subject: hello world\nthe quick brown fox jumps over the lazy dog\n",
            true,
        );
        let (buckets, weights) = (m.buckets.clone(), m.weights.clone());
        let msg = b"Subject: buy now buy now buy now buy now buy now buy now\n";
        let first = m.cost(msg, true);
        assert_eq!(first, m.cost(msg, true));
        assert!(m.buckets.iter().zip(&buckets).all(|(a, b)| a.0 == b.0));
        assert_eq!(m.weights, weights);
        assert!(first < m.cost(msg, false));
    }
}
