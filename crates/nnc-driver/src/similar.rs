//! Matching queries against a database of embeddings: the course's face recognition.
//! Every query is compared with every database row (brute force, by compiled products:
//! see `docs/cli.md` for the sizes that answers in under a second), its best matches
//! kept, and a verdict given against a threshold. When the queries carry identities, the
//! verification figures over every query-database pair: ROC AUC, the equal-error-rate
//! threshold, the false accept and reject rates at the threshold, and top-1 accuracy.

use crate::products::{Products, ProductsError, squared_lengths};

/// How two embeddings are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// cos(a, b) in [−1, 1]; higher is more alike.
    Cosine,
    /// |a − b|; lower is more alike.
    Euclidean,
}

impl Measure {
    pub fn name(self) -> &'static str {
        match self {
            Measure::Cosine => "cosine",
            Measure::Euclidean => "euclidean",
        }
    }

    /// A value in this measure's units from a score (higher is more alike).
    pub fn value(self, score: f32) -> f32 {
        match self {
            Measure::Cosine => score,
            Measure::Euclidean => -score,
        }
    }

    /// The score (higher is more alike) of a value in this measure's units.
    pub fn score(self, value: f32) -> f32 {
        self.value(value)
    }
}

/// Rows of `width` numbers, row-major.
#[derive(Clone, Debug, Default)]
pub struct Embeddings {
    pub values: Vec<f32>,
    pub width: usize,
}

impl Embeddings {
    pub fn rows(&self) -> usize {
        self.values.len() / self.width.max(1)
    }

    /// Each row divided by its length (a zero row stays zero): cosine similarity is then
    /// a dot product.
    pub fn normalized(&self) -> Embeddings {
        let mut copy = self.clone();
        copy.normalize();
        copy
    }

    /// [`Embeddings::normalized`] in place.
    pub fn normalize(&mut self) {
        for row in self.values.chunks_mut(self.width.max(1)) {
            let length = row.iter().map(|v| v * v).sum::<f32>().sqrt();
            if length > 0.0 {
                row.iter_mut().for_each(|v| *v /= length);
            }
        }
    }
}

/// One database row a query matched: its row index and the similarity (or distance).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Match {
    pub row: usize,
    pub value: f32,
}

/// Every query's best `top` database rows, best first, and optionally every
/// query-database pair's score (for verification).
pub struct Search {
    pub best: Vec<Vec<Match>>,
    /// `scores[q * database_rows + d]`, higher is more alike (cosine, or −distance).
    pub scores: Option<Vec<f32>>,
}

/// Rows per compiled block of queries and of database rows.
const QUERY_BLOCK: usize = 1024;
const DATABASE_BLOCK: usize = 4096;

/// The most query-database pairs whose scores the verification figures (ROC AUC, equal
/// error rate, false accept and reject rates) are computed over: 64 MiB of scores, and
/// as much again for each copy the figures make. Every pair counted for 50,000 queries
/// against as many rows was 10 GB, allocated at once (an abort under `ulimit -v`).
pub const MAX_PAIRS: usize = 1 << 24;

/// Bytes a scored pair holds when the figures are computed: its score and the sort's
/// copy of it, for the embeddings and again for the raw features.
const BYTES_PER_SCORED_PAIR: u64 = 16;

/// The most pairs to score when `room` bytes are left: [`MAX_PAIRS`], or as many as half
/// of the room holds (the rest is for the database, the parts and the kernels).
pub fn most_pairs(room: u64) -> usize {
    usize::try_from(room / 2 / BYTES_PER_SCORED_PAIR).unwrap_or(usize::MAX).min(MAX_PAIRS)
}

/// How many of `queries` queries (the first) have their pairs with `database` rows
/// scored for the verification figures: all of them, or as many as `pairs` pairs allow
/// (at least one).
pub fn scored_queries(queries: usize, database: usize, pairs: usize) -> usize {
    queries.min((pairs / database.max(1)).max(1))
}

/// Compares every query with every database row by `measure`; keeps each query's `top`
/// best, and every pair's score of the first `scored` queries (`scored_queries` bounds
/// them).
pub fn search(
    queries: &Embeddings,
    database: &Embeddings,
    measure: Measure,
    top: usize,
    scored: usize,
) -> Result<Search, ProductsError> {
    let mut searcher = Searcher::new(database.clone(), measure, top);
    let mut scores = Vec::new();
    let best = searcher.search(queries.clone(), scored, &mut scores)?;
    Ok(Search { best, scores: (scored.min(queries.rows()) > 0).then_some(scores) })
}

/// The database side of a search, prepared once (its rows, of length 1 for cosine, and
/// their squared lengths), for queries that may come a part of a file at a time. The
/// product kernel is compiled at the first queries, for blocks of their number of rows.
pub struct Searcher {
    database: Embeddings,
    lengths: Vec<f32>,
    measure: Measure,
    top: usize,
    products: Option<Products>,
}

impl Searcher {
    pub fn new(mut database: Embeddings, measure: Measure, top: usize) -> Searcher {
        if measure == Measure::Cosine {
            database.normalize();
        }
        let lengths = squared_lengths(&database.values, database.width);
        Searcher { database, lengths, measure, top, products: None }
    }

    /// Each query's best `top` database rows, best first; appends to `scores` the score
    /// of each of the first `scored` queries with every database row (`scores[q * rows + d]`
    /// for this call's queries).
    pub fn search(
        &mut self,
        mut queries: Embeddings,
        scored: usize,
        scores: &mut Vec<f32>,
    ) -> Result<Vec<Vec<Match>>, ProductsError> {
        if self.measure == Measure::Cosine {
            queries.normalize();
        }
        let (n_queries, n_database) = (queries.rows(), self.database.rows());
        if self.products.is_none() {
            let rows = n_queries.min(QUERY_BLOCK);
            self.products = Some(Products::new(rows, n_database.min(DATABASE_BLOCK), self.database.width)?);
        }
        let Some(products) = self.products.as_mut() else {
            return Err(ProductsError::Bug("the product kernel was not compiled".into()));
        };
        let query_lengths = squared_lengths(&queries.values, queries.width);
        let (measure, top, database_lengths) = (self.measure, self.top, &self.lengths);
        let mut best: Vec<Vec<(f32, usize)>> = vec![Vec::with_capacity(top + 1); n_queries];
        let scored = scored.min(n_queries);
        let first = scores.len();
        // Reserved fallibly: the caller bounds the pairs by the memory left, and an
        // estimate that falls short must not abort.
        let pairs = scored * n_database;
        scores
            .try_reserve_exact(pairs)
            .map_err(|_| ProductsError::NoMemory(format!("the scores of {pairs} more pairs could not be allocated")))?;
        scores.resize(first + scored * n_database, 0.0);
        let scores = &mut scores[first..];
        // One block row's scores at a time (distances computed in a loop of their own,
        // vectorised), then offered to the query's best.
        let mut row_scores = Vec::with_capacity(n_database.min(DATABASE_BLOCK));
        products.for_each_block(&queries.values, &self.database.values, |i, j, block| {
            for r in 0..block.rows {
                let q = i + r;
                let dots = block.row(r);
                let row: &[f32] = match measure {
                    Measure::Cosine => dots,
                    Measure::Euclidean => {
                        // −|q − d|, from |q|² + |d|² − 2 q·d (never below 0 after rounding).
                        let (qq, dd) = (query_lengths[q], &database_lengths[j..j + dots.len()]);
                        row_scores.clear();
                        row_scores
                            .extend(dots.iter().zip(dd).map(|(&dot, &dd)| -(qq + dd - 2.0 * dot).max(0.0).sqrt()));
                        &row_scores
                    }
                };
                if q < scored {
                    scores[q * n_database + j..][..row.len()].copy_from_slice(row);
                }
                offer(&mut best[q], top, row, j);
            }
        });
        let measure = self.measure;
        Ok(best
            .into_iter()
            .map(|kept| kept.into_iter().map(|(score, row)| Match { row, value: measure.value(score) }).collect())
            .collect())
    }
}

/// Offers `scores` (of database rows `first..`, in order) to `kept`, as [`keep_best`] one
/// at a time would, passing over a run of them at once when none can enter: when `kept` is
/// full, none above its worst (nor NaN). Most of the pairs of a large search are passed
/// over that way, in a loop the compiler vectorises, where a call for each took most of
/// the search's time.
fn offer(kept: &mut Vec<(f32, usize)>, top: usize, scores: &[f32], first: usize) {
    const RUN: usize = 16;
    if top == 0 {
        return;
    }
    for (run, chunk) in scores.chunks(RUN).enumerate() {
        if let Some(&(worst, _)) = kept.last().filter(|_| kept.len() == top) {
            // `!(s <= worst)`, exactly what `keep_best` does not return early for (NaN on
            // either side included), in one comparison the compiler vectorises.
            #[allow(clippy::neg_cmp_op_on_partial_ord)]
            let entering = chunk.iter().fold(false, |any, &s| any | !(s <= worst));
            if !entering {
                continue;
            }
        }
        for (at, &score) in chunk.iter().enumerate() {
            keep_best(kept, top, score, first + run * RUN + at);
        }
    }
}

/// Inserts `(score, row)` into `kept` (best first, at most `top`); ties keep the earlier row.
fn keep_best(kept: &mut Vec<(f32, usize)>, top: usize, score: f32, row: usize) {
    if top == 0 || (kept.len() == top && kept.last().is_some_and(|&(worst, _)| score <= worst)) {
        return;
    }
    let at = kept.partition_point(|&(s, _)| s >= score);
    kept.insert(at, (score, row));
    kept.truncate(top);
}

/// Verification over genuine (same identity) and impostor pairs.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Verification {
    pub genuine_pairs: usize,
    pub impostor_pairs: usize,
    /// The chance that a random genuine pair scores above a random impostor pair (ties
    /// count half).
    pub roc_auc: f64,
    /// The threshold (in the measure's units) where the false accept and false reject
    /// rates are closest, and their mean there.
    pub eer_threshold: f32,
    pub equal_error_rate: f64,
}

/// Genuine and impostor scores (higher is more alike), each sorted ascending.
pub struct Pairs {
    pub genuine: Vec<f32>,
    pub impostor: Vec<f32>,
}

impl Pairs {
    /// Splits `scores[q * identities_b.len() + d]` by whether identities agree. The
    /// impostor pairs (most of them) stay in `scores`' memory: no copy of millions of them.
    pub fn split(mut scores: Vec<f32>, identities_a: &[u32], identities_b: &[u32]) -> Pairs {
        let (mut genuine, mut impostors) = (Vec::new(), 0);
        let width = identities_b.len().max(1);
        for (q, &id_a) in identities_a.iter().enumerate().take(scores.len() / width) {
            for (d, &id_b) in identities_b.iter().enumerate() {
                let score = scores[q * width + d];
                if id_a == id_b {
                    genuine.push(score);
                } else {
                    scores[impostors] = score;
                    impostors += 1;
                }
            }
        }
        scores.truncate(impostors);
        let mut impostor = scores;
        // One after the other, on this thread: a helper's first allocation made glibc
        // reserve an arena of 64 MB of address space while this thread's sort was
        // allocating the buffer `sort` had just found room for, which then failed under
        // `ulimit -v` (an abort, 3 runs in 20 at 320 MB); and a query has one genuine
        // pair among thousands of impostors, so the second core saved little.
        sort(&mut genuine);
        sort(&mut impostor);
        Pairs { genuine, impostor }
    }

    /// Pairs `(i, j)`, `i < j`, of one set of rows (a row is not its own pair).
    pub fn within(scores: &[f32], identities: &[u32]) -> Pairs {
        let n = identities.len();
        let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
        for i in 0..n {
            for j in i + 1..n {
                let score = scores[i * n + j];
                if identities[i] == identities[j] { genuine.push(score) } else { impostor.push(score) }
            }
        }
        sort(&mut genuine);
        sort(&mut impostor);
        Pairs { genuine, impostor }
    }

    /// ROC AUC and the equal error rate, or `None` without both kinds of pairs.
    pub fn verification(&self, measure: Measure) -> Option<Verification> {
        let (g, i) = (&self.genuine, &self.impostor);
        if g.is_empty() || i.is_empty() {
            return None;
        }
        // For each distinct genuine score (a run of `same` pairs): impostors below it,
        // and ties at half weight. Counting ties once per run keeps this linear when many
        // pairs share a score (duplicate rows, integer pixels).
        let (mut below, mut wins, mut next) = (0usize, 0.0f64, 0usize);
        while next < g.len() {
            let score = g[next];
            let same = g[next..].iter().take_while(|&&s| s == score).count();
            while below < i.len() && i[below] < score {
                below += 1;
            }
            let ties = i[below..].iter().take_while(|&&s| s == score).count();
            wins += same as f64 * (below as f64 + ties as f64 / 2.0);
            next += same;
        }
        let roc_auc = wins / (g.len() as f64 * i.len() as f64);
        let (threshold, rate) = self.equal_error();
        Some(Verification {
            genuine_pairs: g.len(),
            impostor_pairs: i.len(),
            roc_auc,
            eer_threshold: measure.value(threshold),
            equal_error_rate: rate,
        })
    }

    /// The score threshold t (accept when score ≥ t) where FAR and FRR are closest, and
    /// their mean there. Every distinct score is a candidate.
    fn equal_error(&self) -> (f32, f64) {
        let (g, i) = (&self.genuine, &self.impostor);
        let (mut best, mut best_gap, mut best_rate) = (f32::NEG_INFINITY, f64::INFINITY, 0.0);
        // Both lists are sorted: walking them together visits every distinct score in
        // order, with the pairs below it counted so far.
        let (mut rejected, mut refused) = (0usize, 0usize);
        // Multiplications by the reciprocals, not divisions, in a loop over every pair.
        let (per_genuine, per_impostor) = (1.0 / g.len() as f64, 1.0 / i.len() as f64);
        while rejected < g.len() || refused < i.len() {
            let t = match (g.get(rejected), i.get(refused)) {
                (Some(&a), Some(&b)) => a.min(b),
                (Some(&a), None) => a,
                (None, Some(&b)) => b,
                (None, None) => break,
            };
            // Genuine pairs below t are falsely rejected; impostors at or above t accepted.
            let frr = rejected as f64 * per_genuine;
            let far = (i.len() - refused) as f64 * per_impostor;
            if (far - frr).abs() < best_gap {
                (best, best_gap, best_rate) = (t, (far - frr).abs(), (far + frr) / 2.0);
            }
            while rejected < g.len() && g[rejected] <= t {
                rejected += 1;
            }
            while refused < i.len() && i[refused] <= t {
                refused += 1;
            }
        }
        (best, best_rate)
    }

    /// The false accept and false reject rates when pairs of score ≥ `threshold` are
    /// accepted.
    pub fn rates_at(&self, threshold: f32) -> (f64, f64) {
        let accepted_impostors = self.impostor.len() - self.impostor.partition_point(|&s| s < threshold);
        let rejected_genuine = self.genuine.partition_point(|&s| s < threshold);
        (
            accepted_impostors as f64 / self.impostor.len().max(1) as f64,
            rejected_genuine as f64 / self.genuine.len().max(1) as f64,
        )
    }
}

/// Sorts scores ascending, by a radix sort (`radsort` orders floats by their bits, as
/// `f32::total_cmp`): the ten million pair scores of a large database sort in a few
/// passes over memory, several times faster than a comparison sort. The radix sort needs
/// a second buffer as large, which it allocates infallibly: when that (twice over, for
/// the sorts running beside this one) cannot be had, the scores are sorted in place, in
/// the same order.
fn sort(scores: &mut [f32]) {
    if crate::memory::can_allocate(scores.len().saturating_mul(2 * 4)) {
        radsort::sort(scores);
    } else {
        scores.sort_unstable_by(f32::total_cmp);
    }
}

/// Identities as small numbers, in order of first appearance over `lists`.
pub fn identity_ids(lists: &[&[String]]) -> Vec<Vec<u32>> {
    let mut names: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
    lists
        .iter()
        .map(|list| {
            list.iter()
                .map(|name| {
                    let next = names.len() as u32;
                    *names.entry(name.as_str()).or_insert(next)
                })
                .collect()
        })
        .collect()
}

/// The share of queries whose best match has their identity.
pub fn top1_accuracy(best: &[Vec<Match>], queries: &[u32], database: &[u32]) -> f64 {
    let right = best.iter().zip(queries).filter(|(m, q)| m.first().is_some_and(|m| database[m.row] == **q)).count();
    right as f64 / best.len().max(1) as f64
}

/// Leave-one-out scores within one set of embeddings with identities: each row's nearest
/// other row (top-1 accuracy) and the verification over every pair of rows. What a run
/// trained with a metric loss reports for each split; at most `MAX_WITHIN` rows (a seeded
/// sample beyond), since the pairs grow with the square of the rows.
pub fn within(
    embeddings: &Embeddings,
    identities: &[u32],
    measure: Measure,
) -> Result<(f64, Option<Verification>), ProductsError> {
    let rows = embeddings.rows().min(MAX_WITHIN);
    let sample = Embeddings { values: embeddings.values[..rows * embeddings.width].to_vec(), width: embeddings.width };
    let identities = &identities[..rows];
    let found = search(&sample, &sample, measure, 2, rows)?;
    let scores = found.scores.unwrap_or_default();
    let nearest_other: Vec<Vec<Match>> = found
        .best
        .iter()
        .enumerate()
        .map(|(q, best)| best.iter().copied().filter(|m| m.row != q).take(1).collect())
        .collect();
    let top1 = top1_accuracy(&nearest_other, identities, identities);
    Ok((top1, Pairs::within(&scores, identities).verification(measure)))
}

/// The most rows [`within`] compares pairwise (12.5 million pairs).
pub const MAX_WITHIN: usize = 5000;

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(genuine: &[f32], impostor: &[f32]) -> Pairs {
        let mut p = Pairs { genuine: genuine.to_vec(), impostor: impostor.to_vec() };
        p.genuine.sort_unstable_by(f32::total_cmp);
        p.impostor.sort_unstable_by(f32::total_cmp);
        p
    }

    #[test]
    fn auc_counts_ordered_pairs_and_ties_half() {
        let v = pairs(&[0.9, 0.8], &[0.1, 0.2]).verification(Measure::Cosine).unwrap();
        assert_eq!(v.roc_auc, 1.0);
        assert_eq!(v.equal_error_rate, 0.0);
        // 0.5 beats 0.3, loses to 0.7; 0.9 beats both: 3 of 4.
        assert_eq!(pairs(&[0.5, 0.9], &[0.3, 0.7]).verification(Measure::Cosine).unwrap().roc_auc, 0.75);
        assert_eq!(pairs(&[0.5], &[0.5]).verification(Measure::Cosine).unwrap().roc_auc, 0.5);
        assert!(pairs(&[], &[0.5]).verification(Measure::Cosine).is_none());
    }

    #[test]
    fn the_equal_error_threshold_balances_the_two_rates() {
        // At t = 0.6 one of four genuine pairs is rejected (0.4) and one of four impostors
        // accepted (0.6).
        let p = pairs(&[0.4, 0.7, 0.8, 0.9], &[0.1, 0.2, 0.3, 0.6]);
        let v = p.verification(Measure::Cosine).unwrap();
        assert_eq!((v.eer_threshold, v.equal_error_rate), (0.6, 0.25));
        let (far, frr) = p.rates_at(v.eer_threshold);
        assert!((far - frr).abs() < 1e-9, "{far} {frr} at {}", v.eer_threshold);
        assert!((v.equal_error_rate - far).abs() < 1e-9);
        assert_eq!(p.rates_at(0.95), (0.0, 1.0));
        assert_eq!(p.rates_at(0.0), (1.0, 0.0));
    }

    #[test]
    fn search_finds_the_nearest_rows_by_either_measure() {
        let database = Embeddings { values: vec![1.0, 0.0, 0.0, 1.0, 3.0, 3.1], width: 2 };
        let queries = Embeddings { values: vec![0.9, 0.1, 2.9, 3.0], width: 2 };
        let cosine = search(&queries, &database, Measure::Cosine, 2, usize::MAX).unwrap();
        assert_eq!(cosine.best[0][0].row, 0);
        assert!((cosine.best[0][0].value - 0.9 / (0.82f32).sqrt()).abs() < 1e-5);
        assert_eq!(cosine.best[1][0].row, 2);
        let euclidean = search(&queries, &database, Measure::Euclidean, 3, 0).unwrap();
        assert_eq!(euclidean.best[1].iter().map(|m| m.row).collect::<Vec<_>>(), [2, 1, 0]);
        assert!((euclidean.best[1][0].value - (0.01f32 + 0.01).sqrt()).abs() < 1e-4);
    }

    /// Scores are kept for the first `scored` queries only, the same as a full search's
    /// first rows, while every query still gets its best matches; `scored_queries`
    /// keeps at most the pairs given (`MAX_PAIRS`, or fewer when the memory left is less
    /// than 32 bytes a pair), and at least one query.
    #[test]
    fn scores_are_kept_for_the_first_queries_only() {
        let database = Embeddings { values: vec![1.0, 0.0, 0.0, 1.0, 3.0, 3.1], width: 2 };
        let queries = Embeddings { values: vec![0.9, 0.1, 2.9, 3.0, 0.0, 2.0], width: 2 };
        let all = search(&queries, &database, Measure::Cosine, 1, usize::MAX).unwrap();
        let first = search(&queries, &database, Measure::Cosine, 1, 2).unwrap();
        let scores = first.scores.unwrap();
        assert_eq!(scores.len(), 2 * 3);
        assert_eq!(scores[..], all.scores.unwrap()[..6]);
        assert_eq!(first.best.len(), 3);
        assert_eq!(first.best[2][0].row, 1);
        assert!(search(&queries, &database, Measure::Cosine, 1, 0).unwrap().scores.is_none());
        assert_eq!(scored_queries(50_000, 50_000, MAX_PAIRS), 335);
        assert_eq!(scored_queries(10, 10, MAX_PAIRS), 10);
        assert_eq!(scored_queries(5, usize::MAX, MAX_PAIRS), 1);
        assert_eq!(scored_queries(5, 0, MAX_PAIRS), 5);
        assert_eq!(scored_queries(50_000, 50_000, most_pairs(320_000_000)), 200);
        assert_eq!(most_pairs(u64::MAX), MAX_PAIRS);
    }

    /// Queries searched a part at a time (as `nnc similar` reads them) get the matches
    /// and scores of one search over all of them, by both measures: each part's scores
    /// follow the last's, and the kernel compiled for the first part's rows serves later
    /// parts of other sizes.
    #[test]
    fn queries_in_parts_are_answered_as_all_at_once() {
        let wave = |n: usize, f: f32| (0..n).map(|i| (i as f32 * f).sin()).collect::<Vec<f32>>();
        let database = Embeddings { values: wave(40 * 3, 0.73), width: 3 };
        let queries = Embeddings { values: wave(23 * 3, 1.37), width: 3 };
        for measure in [Measure::Cosine, Measure::Euclidean] {
            let whole = search(&queries, &database, measure, 4, 17).unwrap();
            for part in [1, 5, 9] {
                let (mut searcher, mut scores, mut best) =
                    (Searcher::new(database.clone(), measure, 4), Vec::new(), Vec::new());
                for (index, rows) in queries.values.chunks(part * 3).enumerate() {
                    let scored = 17usize.saturating_sub(index * part);
                    let rows = Embeddings { values: rows.to_vec(), width: 3 };
                    best.extend(searcher.search(rows, scored, &mut scores).unwrap());
                }
                assert_eq!(best, whole.best, "{measure:?}, parts of {part}");
                assert_eq!(Some(&scores), whole.scores.as_ref(), "{measure:?}, parts of {part}");
            }
        }
    }

    /// Offering a row of scores keeps what offering them one at a time keeps: runs
    /// passed over and runs entered, ties (the earlier row stays), NaN, rows of any
    /// length, `top` 0 to 20.
    #[test]
    fn offering_runs_keeps_what_one_at_a_time_keeps() {
        let mut state = 7u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for case in 0..2_000 {
            let (top, len) = ((case % 21) as usize, (next() % 200) as usize);
            let scores: Vec<f32> = (0..len)
                .map(|_| match next() % 50 {
                    0 => f32::NAN,
                    1..=10 => 0.5,
                    _ => (next() % 1000) as f32 / 1000.0,
                })
                .collect();
            let (mut one_by_one, mut offered) = (Vec::new(), Vec::new());
            // In two calls, as a row of the database comes in blocks.
            for (at, end) in [(0, len / 3), (len / 3, len)] {
                for (row, &score) in scores[at..end].iter().enumerate() {
                    keep_best(&mut one_by_one, top, score, at + row);
                }
                offer(&mut offered, top, &scores[at..end], at);
            }
            let bits = |kept: &[(f32, usize)]| kept.iter().map(|&(s, r)| (s.to_bits(), r)).collect::<Vec<_>>();
            assert_eq!(bits(&offered), bits(&one_by_one), "top {top}, {len} scores");
        }
    }

    #[test]
    fn scores_sort_as_floats_do() {
        let scores = vec![0.5, -1.0, 0.0, 2.0, -3.5, 1e-30, -1e-30];
        let mut scores = scores;
        sort(&mut scores);
        assert_eq!(scores, [-3.5, -1.0, -1e-30, 0.0, 1e-30, 0.5, 2.0]);
        // The radix sort and the in-place sort (without room for the radix sort's second
        // buffer) give the same order, signed zeros included.
        let mut state = 3u32;
        let mut many: Vec<f32> = (0..10_000)
            .map(|i| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                match i % 4 {
                    0 => 0.0,
                    1 => -0.0,
                    _ => f32::from_bits(state >> 2) - 1.0,
                }
            })
            .collect();
        let mut in_place = many.clone();
        in_place.sort_unstable_by(f32::total_cmp);
        radsort::sort(&mut many);
        assert_eq!(
            many.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            in_place.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn pairs_split_by_identity() {
        let p = Pairs::split(vec![0.9, 0.1, 0.2, 0.8], &[0, 1], &[0, 1]);
        assert_eq!((p.genuine, p.impostor), (vec![0.8, 0.9], vec![0.1, 0.2]));
        let ids = identity_ids(&[&["a".to_string(), "b".to_string()], &["b".to_string()]]);
        assert_eq!(ids, vec![vec![0, 1], vec![1]]);
    }
}

/// A database of embeddings with their identities, as `nnc similar --save-database`
/// writes it (safetensors: tensor `embeddings` `[rows, width]`; the model, layer,
/// identities and file lines in the metadata) and `--database FILE.safetensors` reads it
/// back, so the database's rows are embedded once.
#[derive(Clone, Debug)]
pub struct Database {
    pub model: String,
    pub layer: String,
    pub embeddings: Embeddings,
    pub identities: Vec<String>,
    pub lines: Vec<u64>,
}

/// The format tag of a saved database.
const DATABASE_FORMAT: &str = "nnc-embeddings-1";

impl Database {
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        let data: Vec<u8> = self.embeddings.values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let shape = vec![self.embeddings.rows(), self.embeddings.width];
        let view =
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape, &data).map_err(|e| e.to_string())?;
        let json = |v: &dyn crate::weights::erased::Json| v.json();
        let metadata: std::collections::HashMap<String, String> = [
            ("format", DATABASE_FORMAT.to_string()),
            ("model", self.model.clone()),
            ("layer", self.layer.clone()),
            ("identities", json(&self.identities)),
            ("lines", json(&self.lines)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        safetensors::serialize([("embeddings".to_string(), view)], Some(metadata)).map_err(|e| e.to_string())
    }

    /// Reads a saved database; `Err` says what is wrong with the file.
    pub fn read(path: &std::path::Path) -> Result<Database, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let not_ours = |e: &dyn std::fmt::Display| format!("not a database written by `nnc similar`: {e}");
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| not_ours(&e))?;
        let tensors = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| not_ours(&e))?;
        let meta = header.metadata().clone().unwrap_or_default();
        let get = |key: &str| meta.get(key).cloned().ok_or_else(|| not_ours(&format!("no `{key}` in its metadata")));
        if get("format")? != DATABASE_FORMAT {
            return Err(not_ours(&format!("format `{}`", get("format")?)));
        }
        let identities: Vec<String> = serde_json::from_str(&get("identities")?).map_err(|e| not_ours(&e))?;
        let lines: Vec<u64> = serde_json::from_str(&get("lines")?).map_err(|e| not_ours(&e))?;
        let tensor = tensors.tensor("embeddings").map_err(|e| not_ours(&e))?;
        let (shape, data) = (tensor.shape().to_vec(), tensor.data());
        let ok = tensor.dtype() == safetensors::Dtype::F32
            && shape.len() == 2
            && shape[0] == identities.len()
            && shape[0] == lines.len()
            && data.len() == shape[0] * shape[1] * 4;
        if !ok {
            return Err(not_ours(&"the embeddings do not fit the identities"));
        }
        let values = data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        Ok(Database {
            model: get("model")?,
            layer: get("layer")?,
            embeddings: Embeddings { values, width: shape[1] },
            identities,
            lines,
        })
    }
}
