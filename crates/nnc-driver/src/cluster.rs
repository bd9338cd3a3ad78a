//! k-means clustering, and how good a clustering is: what `nnc cluster` does with a
//! program's preprocessed features or a layer's embeddings.
//!
//! k-means++ seeding (greedy, 2 + ln k candidates per centre, as scikit-learn), Lloyd
//! iterations until the centres move less than a tolerance, several seeded restarts and
//! the lowest inertia kept. Every distance is a matrix product run by a compiled kernel
//! (`products.rs`): rows against centres, rows against candidate centres, and rows
//! against rows for the silhouette.

use crate::products::{Products, ProductsError, squared_lengths};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Settings of one clustering.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub k: usize,
    pub seed: u64,
    /// Runs from different seeds; the lowest inertia is kept (scikit-learn's `n_init`).
    pub restarts: usize,
    /// Lloyd iterations per run at most.
    pub max_iterations: usize,
    /// Stop when the centres' total squared movement is below this share of the
    /// features' mean variance (scikit-learn's `tol`).
    pub tolerance: f64,
}

impl Settings {
    pub fn new(k: usize, seed: u64) -> Settings {
        Settings { k, seed, restarts: 10, max_iterations: 300, tolerance: 1e-4 }
    }
}

/// A clustering of `rows` rows.
#[derive(Clone, Debug)]
pub struct Clustering {
    pub assignments: Vec<usize>,
    /// `k × width`, row-major.
    pub centroids: Vec<f32>,
    /// The sum of squared distances of the rows to their centres.
    pub inertia: f64,
    /// Lloyd iterations of the kept run.
    pub iterations: usize,
    /// Lloyd iterations over every restart, and the time they took (not the seeding):
    /// what `bench/compare.py` sets against scikit-learn.
    pub total_iterations: usize,
    pub lloyd_seconds: f64,
}

/// Rows per compiled block.
const BLOCK: usize = 4096;

/// Clusters `rows` (`width` numbers each, row-major) into `settings.k` clusters.
/// `settings.k` must be between 1 and the number of rows.
pub fn kmeans(rows: &[f32], width: usize, settings: &Settings) -> Result<Clustering, ProductsError> {
    let n = rows.len() / width.max(1);
    let k = settings.k.clamp(1, n.max(1));
    let lengths = squared_lengths(rows, width);
    let candidates = 2 + (k as f64).ln() as usize;
    let mut to_centres = Products::new(n.min(BLOCK), k, width)?;
    let mut to_candidates = Products::new(n.min(BLOCK), candidates, width)?;
    let tolerance = settings.tolerance * mean_variance(rows, width);
    let mut best: Option<Clustering> = None;
    let (mut total_iterations, mut lloyd_seconds) = (0, 0.0);
    for restart in 0..settings.restarts.max(1) {
        let mut rng = ChaCha8Rng::seed_from_u64(settings.seed.wrapping_mul(1_000_003).wrapping_add(restart as u64));
        let centroids = seed_centres(rows, width, &lengths, k, candidates, &mut to_candidates, &mut rng);
        let started = std::time::Instant::now();
        let run = lloyd(rows, width, &lengths, centroids, &mut to_centres, settings.max_iterations, tolerance);
        lloyd_seconds += started.elapsed().as_secs_f64();
        total_iterations += run.iterations;
        if best.as_ref().is_none_or(|b| run.inertia < b.inertia) {
            best = Some(run);
        }
    }
    let mut best = best.ok_or_else(|| ProductsError::Bug("k-means made no run".to_string()))?;
    (best.total_iterations, best.lloyd_seconds) = (total_iterations, lloyd_seconds);
    Ok(best)
}

/// Each row's nearest centre and the squared distance to it.
fn assign(
    rows: &[f32],
    width: usize,
    lengths: &[f32],
    centres: &[f32],
    products: &mut Products,
    nearest: &mut [(usize, f32)],
) {
    let centre_lengths = squared_lengths(centres, width);
    products.for_each_block(rows, centres, |i, _, block| {
        for r in 0..block.rows {
            let mut found = (0, f32::INFINITY);
            for (c, &dot) in block.row(r).iter().enumerate() {
                let distance = (lengths[i + r] + centre_lengths[c] - 2.0 * dot).max(0.0);
                if distance < found.1 {
                    found = (c, distance);
                }
            }
            nearest[i + r] = found;
        }
    });
}

/// Greedy k-means++: each next centre is the best of `candidates` rows drawn with
/// probability proportional to their squared distance to the nearest centre so far.
fn seed_centres(
    rows: &[f32],
    width: usize,
    lengths: &[f32],
    k: usize,
    candidates: usize,
    products: &mut Products,
    rng: &mut ChaCha8Rng,
) -> Vec<f32> {
    let n = lengths.len();
    let first = rng.random_range(0..n);
    let mut centres = rows[first * width..(first + 1) * width].to_vec();
    let mut closest: Vec<f32> =
        (0..n).map(|i| squared_distance(&rows[i * width..(i + 1) * width], &centres[..width])).collect();
    let mut chosen = vec![0.0f32; candidates * width];
    let mut trial = vec![0.0f32; n * candidates];
    while centres.len() < k * width {
        let total: f64 = closest.iter().map(|&d| f64::from(d)).sum();
        let picks: Vec<usize> = (0..candidates).map(|_| draw(&closest, total, rng)).collect();
        for (slot, &row) in picks.iter().enumerate() {
            chosen[slot * width..(slot + 1) * width].copy_from_slice(&rows[row * width..(row + 1) * width]);
        }
        let chosen_lengths = squared_lengths(&chosen, width);
        products.for_each_block(rows, &chosen, |i, _, block| {
            for r in 0..block.rows {
                for (c, &dot) in block.row(r).iter().enumerate() {
                    let d = (lengths[i + r] + chosen_lengths[c] - 2.0 * dot).max(0.0);
                    trial[(i + r) * candidates + c] = d.min(closest[i + r]);
                }
            }
        });
        let potential = |c: usize| -> f64 { (0..n).map(|i| f64::from(trial[i * candidates + c])).sum() };
        let best = (0..candidates).min_by(|&a, &b| potential(a).total_cmp(&potential(b))).unwrap_or(0);
        centres.extend_from_slice(&chosen[best * width..(best + 1) * width]);
        for (i, d) in closest.iter_mut().enumerate() {
            *d = trial[i * candidates + best];
        }
    }
    centres
}

/// A row drawn with probability proportional to `weights` (uniform when all are 0).
fn draw(weights: &[f32], total: f64, rng: &mut ChaCha8Rng) -> usize {
    if total <= 0.0 {
        return rng.random_range(0..weights.len());
    }
    let mut target = rng.random::<f64>() * total;
    for (i, &w) in weights.iter().enumerate() {
        target -= f64::from(w);
        if target < 0.0 {
            return i;
        }
    }
    weights.len() - 1
}

fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Lloyd's iterations from `centres`.
fn lloyd(
    rows: &[f32],
    width: usize,
    lengths: &[f32],
    mut centres: Vec<f32>,
    products: &mut Products,
    max_iterations: usize,
    tolerance: f64,
) -> Clustering {
    let n = lengths.len();
    let k = centres.len() / width;
    let mut nearest = vec![(0usize, 0.0f32); n];
    let mut iterations = 0;
    let mut sums = vec![0.0f64; k * width];
    let mut counts = vec![0usize; k];
    while iterations < max_iterations {
        iterations += 1;
        assign(rows, width, lengths, &centres, products, &mut nearest);
        sums.fill(0.0);
        counts.fill(0);
        for (i, &(c, _)) in nearest.iter().enumerate() {
            counts[c] += 1;
            for (sum, &v) in sums[c * width..(c + 1) * width].iter_mut().zip(&rows[i * width..(i + 1) * width]) {
                *sum += f64::from(v);
            }
        }
        let mut shift = 0.0f64;
        for c in 0..k {
            let centre = &mut centres[c * width..(c + 1) * width];
            if counts[c] == 0 {
                // An empty cluster takes the row farthest from its centre.
                let far = (0..n).max_by(|&a, &b| nearest[a].1.total_cmp(&nearest[b].1)).unwrap_or(0);
                nearest[far].1 = 0.0;
                shift += f64::from(squared_distance(centre, &rows[far * width..(far + 1) * width]));
                centre.copy_from_slice(&rows[far * width..(far + 1) * width]);
                continue;
            }
            for (value, sum) in centre.iter_mut().zip(&sums[c * width..(c + 1) * width]) {
                let mean = (sum / counts[c] as f64) as f32;
                shift += f64::from((mean - *value) * (mean - *value));
                *value = mean;
            }
        }
        if shift <= tolerance {
            break;
        }
    }
    assign(rows, width, lengths, &centres, products, &mut nearest);
    let inertia = nearest.iter().map(|&(_, d)| f64::from(d)).sum();
    Clustering {
        assignments: nearest.iter().map(|&(c, _)| c).collect(),
        centroids: centres,
        inertia,
        iterations,
        total_iterations: iterations,
        lloyd_seconds: 0.0,
    }
}

/// The mean over features of their variance over rows.
fn mean_variance(rows: &[f32], width: usize) -> f64 {
    let n = (rows.len() / width.max(1)).max(1) as f64;
    let mut total = 0.0;
    for f in 0..width {
        let column = rows.iter().skip(f).step_by(width).map(|&v| f64::from(v));
        let (sum, squares) = column.fold((0.0, 0.0), |(s, q), v| (s + v, q + v * v));
        total += squares / n - (sum / n).powi(2);
    }
    total / width.max(1) as f64
}

/// The mean silhouette of the first [`MAX_SILHOUETTE`] rows, by Euclidean distance: for
/// each row, (b − a) / max(a, b) with a its mean distance to its own cluster's other rows
/// and b the least mean distance to another cluster's; 0 for a row alone in its cluster
/// (scikit-learn's convention). `None` with fewer than two clusters.
pub fn silhouette(rows: &[f32], width: usize, assignments: &[usize], k: usize) -> Result<Option<f64>, ProductsError> {
    let n = assignments.len().min(MAX_SILHOUETTE);
    let (rows, assignments) = (&rows[..n * width], &assignments[..n]);
    let mut sizes = vec![0usize; k];
    assignments.iter().for_each(|&c| sizes[c] += 1);
    if sizes.iter().filter(|&&s| s > 0).count() < 2 {
        return Ok(None);
    }
    let lengths = squared_lengths(rows, width);
    let mut products = Products::new(n.min(1024), n.min(BLOCK), width)?;
    let mut sums = vec![0.0f64; n * k];
    products.for_each_block(rows, rows, |i, j, block| {
        for r in 0..block.rows {
            let sums = &mut sums[(i + r) * k..(i + r + 1) * k];
            for (c, &dot) in block.row(r).iter().enumerate() {
                let distance = (lengths[i + r] + lengths[j + c] - 2.0 * dot).max(0.0).sqrt();
                sums[assignments[j + c]] += f64::from(distance);
            }
        }
    });
    let mut total = 0.0;
    for (i, &own) in assignments.iter().enumerate() {
        if sizes[own] < 2 {
            continue;
        }
        let row = &sums[i * k..(i + 1) * k];
        let a = row[own] / (sizes[own] - 1) as f64;
        let b = (0..k)
            .filter(|&c| c != own && sizes[c] > 0)
            .map(|c| row[c] / sizes[c] as f64)
            .fold(f64::INFINITY, f64::min);
        let spread = a.max(b);
        total += if spread > 0.0 { (b - a) / spread } else { 0.0 };
    }
    Ok(Some(total / n as f64))
}

/// The most rows the silhouette compares pairwise (100 million pairs).
pub const MAX_SILHOUETTE: usize = 10_000;

/// `table[cluster][label]` counts.
pub fn contingency(assignments: &[usize], k: usize, labels: &[u32], classes: usize) -> Vec<Vec<usize>> {
    let mut table = vec![vec![0usize; classes]; k];
    for (&c, &l) in assignments.iter().zip(labels) {
        table[c][l as usize] += 1;
    }
    table
}

/// The adjusted Rand index of a contingency table (Hubert and Arabie 1985): 1 for the
/// same partition, about 0 for a random one.
pub fn adjusted_rand_index(table: &[Vec<usize>]) -> f64 {
    let pairs = |x: usize| (x as f64) * (x as f64 - 1.0) / 2.0;
    let n: usize = table.iter().flatten().sum();
    let index: f64 = table.iter().flatten().map(|&x| pairs(x)).sum();
    let rows: f64 = table.iter().map(|row| pairs(row.iter().sum())).sum();
    let columns: f64 =
        (0..table.first().map_or(0, Vec::len)).map(|l| pairs(table.iter().map(|row| row[l]).sum())).sum();
    let expected = rows * columns / pairs(n).max(f64::MIN_POSITIVE);
    let maximum = (rows + columns) / 2.0;
    if maximum == expected { 1.0 } else { (index - expected) / (maximum - expected) }
}

/// Rows projected on their first two principal components (centred; the top two
/// eigenvectors of the covariance by power iteration). Rows of two numbers are returned as
/// they are.
pub fn project_2d(rows: &[f32], width: usize) -> Vec<(f64, f64)> {
    Plane::fit(rows, width).project(rows)
}

/// The plane of two directions that rows are drawn on: the rows' first two principal
/// components, or the identity for rows of two numbers. Fitted on some rows, it projects
/// others (centroids) onto the same axes.
pub struct Plane {
    mean: Vec<f64>,
    axes: Option<[Vec<f64>; 2]>,
}

impl Plane {
    pub fn fit(rows: &[f32], width: usize) -> Plane {
        let n = (rows.len() / width.max(1)).max(1) as f64;
        let mean: Vec<f64> =
            (0..width).map(|f| rows.iter().skip(f).step_by(width).map(|&v| f64::from(v)).sum::<f64>() / n).collect();
        if width == 2 {
            return Plane { mean, axes: None };
        }
        let centred: Vec<f64> =
            rows.chunks(width).flat_map(|row| row.iter().zip(&mean).map(|(&v, m)| f64::from(v) - m)).collect();
        let covariance = Covariance::of(&centred, width);
        let first = top_eigenvector(&covariance, None);
        let second = top_eigenvector(&covariance, Some(&first));
        Plane { mean, axes: Some([first, second]) }
    }

    pub fn project(&self, rows: &[f32]) -> Vec<(f64, f64)> {
        let Some([first, second]) = &self.axes else {
            return rows.chunks(2).map(|r| (f64::from(r[0]), f64::from(r[1]))).collect();
        };
        rows.chunks(self.mean.len().max(1))
            .map(|row| {
                let along = |axis: &[f64]| {
                    row.iter().zip(&self.mean).zip(axis).map(|((&v, m), a)| (f64::from(v) - m) * a).sum()
                };
                (along(first), along(second))
            })
            .collect()
    }
}

/// The leading eigenvector of a symmetric matrix, orthogonal to `skip` when given.
/// The covariance of centred rows (unnormalised: `XᵀX`) as something to multiply a
/// vector by: the matrix itself when the rows outnumber their width, else the rows, since
/// `XᵀX·v = Xᵀ(X·v)` then costs 2·rows·width instead of width² (a 1024-wide layer's
/// 46 rows: 94 thousand multiply-adds an iteration instead of a million).
enum Covariance<'a> {
    Matrix { values: Vec<f64>, width: usize },
    Rows { centred: &'a [f64], width: usize },
}

impl<'a> Covariance<'a> {
    fn of(centred: &'a [f64], width: usize) -> Covariance<'a> {
        let n = centred.len() / width.max(1);
        if n < width {
            return Covariance::Rows { centred, width };
        }
        let mut values = vec![0.0f64; width * width];
        for row in centred.chunks(width) {
            for (a, &da) in row.iter().enumerate() {
                for (b, &db) in row.iter().enumerate() {
                    values[a * width + b] += da * db;
                }
            }
        }
        Covariance::Matrix { values, width }
    }

    fn width(&self) -> usize {
        match self {
            Covariance::Matrix { width, .. } | Covariance::Rows { width, .. } => *width,
        }
    }

    fn diagonal_sum(&self) -> f64 {
        match self {
            Covariance::Matrix { values, width } => (0..*width).map(|i| values[i * width + i].abs()).sum(),
            Covariance::Rows { centred, .. } => centred.iter().map(|x| x * x).sum(),
        }
    }

    fn times(&self, v: &[f64]) -> Vec<f64> {
        match self {
            Covariance::Matrix { values, width } => {
                values.chunks(*width).map(|row| row.iter().zip(v).map(|(a, b)| a * b).sum()).collect()
            }
            Covariance::Rows { centred, width } => {
                let mut out = vec![0.0; *width];
                for row in centred.chunks(*width) {
                    let along: f64 = row.iter().zip(v).map(|(a, b)| a * b).sum();
                    out.iter_mut().zip(row).for_each(|(o, x)| *o += along * x);
                }
                out
            }
        }
    }
}

/// The covariance's eigenvector of largest eigenvalue orthogonal to `skip`, by power
/// iteration (at most 500 steps; it stops once a step moves the vector by less than
/// 1e-12).
fn top_eigenvector(matrix: &Covariance<'_>, skip: Option<&[f64]>) -> Vec<f64> {
    let width = matrix.width();
    let orthogonal = |v: &mut Vec<f64>| {
        if let Some(skip) = skip {
            let along: f64 = v.iter().zip(skip).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(skip).for_each(|(a, b)| *a -= along * b);
        }
    };
    let scale = matrix.diagonal_sum();
    let mut v: Vec<f64> = (0..width).map(|i| 1.0 + (i as f64 * 0.618).fract()).collect();
    orthogonal(&mut v);
    for _ in 0..500 {
        let mut next = matrix.times(&v);
        orthogonal(&mut next);
        let length = next.iter().map(|x| x * x).sum::<f64>().sqrt();
        // Nothing left beyond `skip` (rank-one data): no second direction.
        if length <= 1e-12 * scale.max(f64::MIN_POSITIVE) {
            return vec![0.0; width];
        }
        let next: Vec<f64> = next.into_iter().map(|x| x / length).collect();
        let moved = next.iter().zip(&v).map(|(a, b)| (a - b).powi(2)).sum::<f64>();
        v = next;
        if moved < 1e-24 {
            break;
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three tight groups of 20 rows around (0, 0), (10, 0) and (0, 10).
    fn blobs() -> (Vec<f32>, Vec<u32>) {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (mut rows, mut labels) = (Vec::new(), Vec::new());
        for (label, (x, y)) in [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)].into_iter().enumerate() {
            for _ in 0..20 {
                rows.push(x + rng.random::<f32>() - 0.5);
                rows.push(y + rng.random::<f32>() - 0.5);
                labels.push(label as u32);
            }
        }
        (rows, labels)
    }

    #[test]
    fn kmeans_finds_separated_groups() {
        let (rows, labels) = blobs();
        let clustering = kmeans(&rows, 2, &Settings::new(3, 1)).unwrap();
        let table = contingency(&clustering.assignments, 3, &labels, 3);
        assert_eq!(adjusted_rand_index(&table), 1.0, "{table:?}");
        // Each group's spread: uniform on [-0.5, 0.5]², 1/6 per row on average.
        assert!(clustering.inertia < 60.0 / 6.0 * 1.5, "{}", clustering.inertia);
        let s = silhouette(&rows, 2, &clustering.assignments, 3).unwrap().unwrap();
        assert!(s > 0.85, "{s}");
    }

    #[test]
    fn adjusted_rand_index_matches_known_values() {
        // scikit-learn: adjusted_rand_score([0, 0, 1, 1], [0, 0, 1, 2]) = 0.5714285714285715
        let table = contingency(&[0, 0, 1, 2], 3, &[0, 0, 1, 1], 2);
        assert!((adjusted_rand_index(&table) - 0.5714285714285715).abs() < 1e-12);
        // adjusted_rand_score([0, 0, 1, 1], [0, 1, 0, 1]) = -0.5
        let table = contingency(&[0, 1, 0, 1], 2, &[0, 0, 1, 1], 2);
        assert!((adjusted_rand_index(&table) + 0.5).abs() < 1e-12);
    }

    #[test]
    fn silhouette_matches_a_hand_computed_value() {
        // Rows 0, 1 in one cluster and 4 in another, on a line: a(0) = 1, b(0) = 4,
        // s(0) = 0.75; a(1) = 1, b(1) = 3, s = 2/3; row 4 alone: 0. Mean 0.4722.
        let s = silhouette(&[0.0, 1.0, 4.0], 1, &[0, 0, 1], 2).unwrap().unwrap();
        assert!((s - (0.75 + 2.0 / 3.0) / 3.0).abs() < 1e-6, "{s}");
    }

    #[test]
    fn the_first_component_follows_the_longest_spread() {
        let rows: Vec<f32> = (0..10).flat_map(|i| [i as f32, 0.5 * i as f32, 0.0]).collect();
        let projected = project_2d(&rows, 3);
        let spread = projected[9].0 - projected[0].0;
        assert!((spread.abs() - (81.0f64 + 20.25).sqrt()).abs() < 1e-6, "{spread}");
        assert!(projected.iter().all(|p| p.1.abs() < 1e-6));
    }
}
