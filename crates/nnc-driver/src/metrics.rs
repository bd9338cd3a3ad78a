//! Scores of predictions against targets, in the targets' original units.

use nnc_data::Task;

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
}

/// Scores `predictions` against `targets` (rows of equal width) for `task`.
pub fn score(task: &Task, predictions: &[Vec<f32>], targets: &[Vec<f32>]) -> Scores {
    match task {
        Task::Binary(_) => classification(predictions, targets, 2, |row| usize::from(row[0] >= 0.5)),
        Task::Classes(classes) => classification(predictions, targets, classes.len(), argmax),
        Task::Regression => regression(predictions, targets),
    }
}

fn argmax(row: &[f32]) -> usize {
    row.iter().enumerate().fold((0, f32::NEG_INFINITY), |best, (i, &v)| if v > best.1 { (i, v) } else { best }).0
}

fn classification(
    predictions: &[Vec<f32>],
    targets: &[Vec<f32>],
    classes: usize,
    class_of: fn(&[f32]) -> usize,
) -> Scores {
    let mut confusion = vec![vec![0; classes]; classes];
    for (prediction, target) in predictions.iter().zip(targets) {
        let actual = class_of(target).min(classes - 1);
        confusion[actual][class_of(prediction).min(classes - 1)] += 1;
    }
    let correct: usize = (0..classes).map(|c| confusion[c][c]).sum();
    Scores {
        accuracy: Some(correct as f64 / targets.len().max(1) as f64),
        confusion: Some(confusion),
        ..Scores::default()
    }
}

fn regression(predictions: &[Vec<f32>], targets: &[Vec<f32>]) -> Scores {
    let pairs: Vec<(f64, f64)> = predictions
        .iter()
        .flatten()
        .zip(targets.iter().flatten())
        .map(|(&p, &t)| (f64::from(p), f64::from(t)))
        .collect();
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

    #[test]
    fn perfect_regression_has_r2_one_and_zero_error() {
        let rows = vec![vec![1.0], vec![2.0], vec![4.0]];
        let scores = score(&Task::Regression, &rows, &rows);
        assert_eq!((scores.mse, scores.mae, scores.r2), (Some(0.0), Some(0.0), Some(1.0)));
    }

    #[test]
    fn confusion_counts_actual_by_predicted() {
        let predictions = vec![vec![0.9, 0.1], vec![0.2, 0.8], vec![0.6, 0.4]];
        let targets = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![0.0, 1.0]];
        let scores = score(&Task::Classes(vec!["a".into(), "b".into()]), &predictions, &targets);
        assert_eq!(scores.confusion, Some(vec![vec![1, 0], vec![1, 1]]));
        assert_eq!(scores.accuracy, Some(2.0 / 3.0));
    }
}
