//! Scores of predictions against targets, in the targets' original units.

use nnc_data::{Rows, Task};

/// Accuracy and confusion matrix for classification; MSE, MAE and R² for regression.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Scores {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    /// `confusion[actual][predicted]` counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confusion: Option<Vec<Vec<usize>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mse: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mae: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r2: Option<f64>,
    /// Precision, recall and F1 of each class (one-vs-rest), in class order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_class: Option<Vec<ClassScores>>,
    /// The unweighted means of the classes' precision, recall and F1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub macro_precision: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub macro_recall: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub macro_f1: Option<f64>,
    /// Area under the ROC curve of a binary task, from the predicted probabilities (the
    /// chance that a random positive row scores above a random negative one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roc_auc: Option<f64>,
    /// An embedding's (metric loss): the share of rows whose nearest other row of the
    /// split, by cosine similarity, has their class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top1_accuracy: Option<f64>,
    /// An embedding's: ROC AUC of cosine similarity over the split's pairs of rows, same
    /// class against different classes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_auc: Option<f64>,
}

/// One class's scores; a class never predicted has precision 0, one absent has recall 0.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ClassScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Rows of this class.
    pub support: usize,
}

/// Scores `predictions` against `targets` (rows of equal width) for `task`.
pub fn score(task: &Task, predictions: &Rows, targets: &Rows) -> Scores {
    match task {
        Task::Binary(_) => {
            let mut scores = classification(predictions, targets, 2, |row| usize::from(row[0] >= 0.5));
            scores.roc_auc = roc_auc(predictions, targets);
            scores
        }
        Task::Classes(classes) => classification(predictions, targets, classes.len(), argmax),
        Task::Regression => regression(predictions, targets),
    }
}

/// Scores of embeddings against one-hot classes (a model trained with a metric loss):
/// leave-one-out top-1 accuracy and verification ROC AUC within the rows, by cosine
/// similarity (the first `similar::MAX_WITHIN` rows).
pub fn embedding(embeddings: &Rows, targets: &Rows) -> Scores {
    let classes: Vec<u32> = targets.iter().map(|row| class_of(row) as u32).collect();
    let embeddings = crate::similar::Embeddings { values: embeddings.values.clone(), width: embeddings.width };
    match crate::similar::within(&embeddings, &classes, crate::similar::Measure::Cosine) {
        Ok((top1, verification)) => {
            Scores { top1_accuracy: Some(top1), verification_auc: verification.map(|v| v.roc_auc), ..Scores::default() }
        }
        Err(_) => Scores::default(),
    }
}

/// The class a target row encodes: a 0/1 column (binary) or the hot index of a one-hot row.
pub fn class_of(row: &[f32]) -> usize {
    if row.len() == 1 { usize::from(row[0] >= 0.5) } else { argmax(row) }
}

fn argmax(row: &[f32]) -> usize {
    row.iter().enumerate().fold((0, f32::NEG_INFINITY), |best, (i, &v)| if v > best.1 { (i, v) } else { best }).0
}

fn classification(predictions: &Rows, targets: &Rows, classes: usize, class_of: fn(&[f32]) -> usize) -> Scores {
    let mut confusion = vec![vec![0; classes]; classes];
    for (prediction, target) in predictions.iter().zip(targets) {
        let actual = class_of(target).min(classes - 1);
        confusion[actual][class_of(prediction).min(classes - 1)] += 1;
    }
    let correct: usize = (0..classes).map(|c| confusion[c][c]).sum();
    let targets = targets.len();
    let per_class: Vec<ClassScores> = (0..classes).map(|c| class_scores(&confusion, c)).collect();
    let mean = |f: fn(&ClassScores) -> f64| per_class.iter().map(f).sum::<f64>() / classes.max(1) as f64;
    Scores {
        accuracy: Some(correct as f64 / targets.max(1) as f64),
        macro_precision: Some(mean(|c| c.precision)),
        macro_recall: Some(mean(|c| c.recall)),
        macro_f1: Some(mean(|c| c.f1)),
        per_class: Some(per_class),
        confusion: Some(confusion),
        ..Scores::default()
    }
}

fn class_scores(confusion: &[Vec<usize>], class: usize) -> ClassScores {
    let hits = confusion[class][class] as f64;
    let predicted: usize = confusion.iter().map(|row| row[class]).sum();
    let support: usize = confusion[class].iter().sum();
    let ratio = |a: f64, b: usize| if b == 0 { 0.0 } else { a / b as f64 };
    let (precision, recall) = (ratio(hits, predicted), ratio(hits, support));
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    ClassScores { precision, recall, f1, support }
}

/// The Mann-Whitney form of the area under the ROC curve, ties counting half.
fn roc_auc(predictions: &Rows, targets: &Rows) -> Option<f64> {
    let mut scored: Vec<(f32, bool)> = predictions.iter().zip(targets).map(|(p, t)| (p[0], t[0] >= 0.5)).collect();
    let positives = scored.iter().filter(|(_, positive)| *positive).count();
    let negatives = scored.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Rank sum of the positives, ties given their mean rank.
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < scored.len() {
        let mut end = start;
        while end + 1 < scored.len() && scored[end + 1].0 == scored[start].0 {
            end += 1;
        }
        let mean_rank = (start + end) as f64 / 2.0 + 1.0;
        rank_sum += mean_rank * scored[start..=end].iter().filter(|(_, p)| *p).count() as f64;
        start = end + 1;
    }
    let (p, n) = (positives as f64, negatives as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

fn regression(predictions: &Rows, targets: &Rows) -> Scores {
    let pairs: Vec<(f64, f64)> =
        predictions.values.iter().zip(&targets.values).map(|(&p, &t)| (f64::from(p), f64::from(t))).collect();
    let n = pairs.len().max(1) as f64;
    let mse = pairs.iter().map(|(p, t)| (p - t).powi(2)).sum::<f64>() / n;
    let mae = pairs.iter().map(|(p, t)| (p - t).abs()).sum::<f64>() / n;
    let mean = pairs.iter().map(|(_, t)| t).sum::<f64>() / n;
    let total = pairs.iter().map(|(_, t)| (t - mean).powi(2)).sum::<f64>();
    let r2 = if total > 0.0 { 1.0 - mse * n / total } else { f64::NAN };
    Scores { mse: Some(mse), mae: Some(mae), r2: r2.is_finite().then_some(r2), ..Scores::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(rows: &[&[f32]]) -> Rows {
        Rows::new(rows.concat(), rows.first().map_or(1, |r| r.len()))
    }

    #[test]
    fn perfect_regression_has_r2_one_and_zero_error() {
        let rows = rows(&[&[1.0], &[2.0], &[4.0]]);
        let scores = score(&Task::Regression, &rows, &rows);
        assert_eq!((scores.mse, scores.mae, scores.r2), (Some(0.0), Some(0.0), Some(1.0)));
    }

    #[test]
    fn confusion_counts_actual_by_predicted() {
        let predictions = rows(&[&[0.9, 0.1], &[0.2, 0.8], &[0.6, 0.4]]);
        let targets = rows(&[&[1.0, 0.0], &[0.0, 1.0], &[0.0, 1.0]]);
        let scores = score(&Task::Classes(vec!["a".into(), "b".into()]), &predictions, &targets);
        assert_eq!(scores.confusion, Some(vec![vec![1, 0], vec![1, 1]]));
        assert_eq!(scores.accuracy, Some(2.0 / 3.0));
        let per_class = scores.per_class.expect("a classification has per-class scores");
        // a: predicted twice, right once; b: two rows, found once.
        assert_eq!((per_class[0].precision, per_class[0].recall), (0.5, 1.0));
        assert_eq!((per_class[1].precision, per_class[1].recall), (1.0, 0.5));
        assert!((per_class[0].f1 - 2.0 / 3.0).abs() < 1e-12);
        assert!((scores.macro_f1.expect("a classification has a macro F1") - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn roc_auc_counts_ordered_pairs() {
        let targets = rows(&[&[0.0], &[0.0], &[1.0], &[1.0]]);
        let perfect = rows(&[&[0.1], &[0.4], &[0.6], &[0.9]]);
        assert_eq!(roc_auc(&perfect, &targets), Some(1.0));
        let one_swap = rows(&[&[0.1], &[0.7], &[0.6], &[0.9]]);
        assert_eq!(roc_auc(&one_swap, &targets), Some(0.75));
        let ties = rows(&[&[0.5f32][..]; 4]);
        assert_eq!(roc_auc(&ties, &targets), Some(0.5));
        assert_eq!(roc_auc(&perfect, &rows(&[&[1.0f32][..]; 4])), None);
    }
}
