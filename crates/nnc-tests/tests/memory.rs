//! Memory: a 6000-wide Adam layer trains; a run that cannot fit is refused before anything
//! is allocated. (What a step allocates is `allocations.rs`, alone in its process.)

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nnc_driver::Overrides;
/// A 6000-wide layer trained with Adam (36 M weights, two moments each): it crashed the
/// process before buffers were planned by liveness and addressed in 64 bits.
#[test]
fn a_six_thousand_wide_adam_layer_trains() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let width = 6000;
    let header: Vec<String> = (0..width).map(|i| format!("c{i}")).collect();
    let mut text = header.join(",") + "\n";
    for row in 0..4 {
        let values: Vec<String> = (0..width).map(|i| format!("{}", ((i * 7 + row * 3) % 11) as f32 / 10.0)).collect();
        text += &(values.join(",") + "\n");
    }
    std::fs::write(dir.join("wide.csv"), text).unwrap();
    let source = format!(
        "data wide {{ file \"wide.csv\"; target features }}\nmodel m {{ input {width}; dense {width} }}\n\
         train m on wide {{ loss mse; optimizer adam(lr = 0.001); epochs 1; batch 4 }}\n"
    );
    let report = nnc_driver::run(&source, dir, Overrides::default()).unwrap();
    assert!(report.jobs[0].final_loss.is_finite());
}

/// 10^10 weights with Adam need about 150 GiB: refused when checked, naming the size.
#[test]
fn a_run_that_cannot_fit_is_refused_before_allocating() {
    let source = "data xor { x1 x2 -> y; 0 0 -> 0; 0 1 -> 1; 1 0 -> 1; 1 1 -> 0 }\n\
                  model m { input 2; dense 100000 relu; dense 100000 relu; dense 1 }\n\
                  train m on xor { loss mse; optimizer adam(lr = 0.001) }\n";
    let errors = nnc_driver::check(source, std::path::Path::new("."), Overrides::default()).err().unwrap();
    assert_eq!(errors[0].code, nnc_diagnostics::codes::TOO_LARGE);
    assert!(errors[0].message.contains("GiB"), "{}", errors[0].message);
}

/// A split larger than a report samples: every row is predicted, but only the first
/// `SAMPLED_ROWS` rows' inputs and hidden activations are kept (a million rows' would
/// outweigh the data). The categorical feature and the plot label are still read as text
/// after the numeric columns' text is dropped, each row's from its own line.
#[test]
fn a_large_split_keeps_every_prediction_and_a_sample_of_activations() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let rows = nnc_driver::SAMPLED_ROWS + 1000;
    let (colors, kinds) = (["red", "green", "blue"], ["a", "b", "c", "d"]);
    let mut text = String::from("x,color,kind,y\n");
    for row in 0..rows {
        let x = (row % 97) as f32 / 97.0;
        text += &format!("{x},{},{},{}\n", colors[row % 3], kinds[row % 4], 2.0 * x);
    }
    std::fs::write(dir.join("big.csv"), text).unwrap();
    let source = "data d { file \"big.csv\"; features x color; target y; categorical color }\n\
                  model m { input 5; dense 3 relu; dense 1 }\n\
                  train m on d { loss mse; optimizer sgd(lr = 0.1); epochs 1; batch 256 }\n";
    let checked = nnc_driver::check(source, dir, Overrides::default()).unwrap();
    let train = &checked.jobs[0].data.train;
    let (name, labels) = train.annotation.as_ref().unwrap();
    assert_eq!(name, "kind");
    for (row, (&line, label)) in train.lines.iter().zip(labels).enumerate() {
        let source_row = line as usize - 2;
        assert_eq!(label, kinds[source_row % 4], "row {row}");
        let color = &train.inputs[row * 5 + 1..row * 5 + 5];
        let hot = color.iter().position(|&v| v == 1.0).unwrap();
        assert_eq!(train.input_names[1 + hot], format!("color={}", colors[source_row % 3]), "row {row}");
    }
    let report = nnc_driver::run(source, dir, Overrides::default()).unwrap();
    let split = report.jobs[0].splits.iter().find(|s| s.name == "train").unwrap();
    assert_eq!(split.rows, train.rows);
    assert_eq!(split.predictions.len(), train.rows);
    assert_eq!(split.inputs.len(), nnc_driver::SAMPLED_ROWS);
    assert_eq!(split.hidden.len(), 1);
    assert_eq!(split.hidden[0].1.len(), nnc_driver::SAMPLED_ROWS);
    assert_eq!(split.hidden[0].1.row(0).len(), 3);
}

/// A CNN whose activations are 150 KB a row: the report keeps the inputs and the pictured
/// layer's activations (the convolution's, 147 KB) of fewer rows than `SAMPLED_ROWS`, as
/// many as fit `SAMPLED_BYTES` (keeping 2,048 rows of a 28×28 CNN's took longer than
/// computing them), and no other layer's, yet predicts every row.
#[test]
fn wide_activations_are_kept_for_as_many_rows_as_fit_their_bytes() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let (rows, pixels) = (300, 24 * 24);
    let header: Vec<String> = (0..pixels).map(|i| format!("p{i}")).collect();
    let mut text = header.join(",") + ",label\n";
    for row in 0..rows {
        let values: Vec<String> = (0..pixels).map(|i| format!("{}", ((i * 7 + row * 3) % 11) as f32 / 10.0)).collect();
        text += &format!("{},{}\n", values.join(","), row % 2);
    }
    std::fs::write(dir.join("images.csv"), text).unwrap();
    let source = "data d { file \"images.csv\"; features p0..p575; target label; categorical label }\n\
                  model m { input 24x24x1; conv2d 64 relu (kernel = 3, padding = same); maxpool; dense 2 }\n\
                  train m on d { loss softmax_ce; optimizer sgd(lr = 0.01); epochs 1; batch 32 }\n";
    let checked = nnc_driver::check(source, dir, Overrides::default()).unwrap();
    let sampled = nnc_driver::sampled_rows(&checked.jobs[0]);
    // Inputs 576 and the convolution's 24·24·64: 37,440 numbers a row.
    assert_eq!(sampled, nnc_driver::SAMPLED_BYTES / (37_440 * 4));
    assert!(sampled < rows, "{sampled}");
    let report = nnc_driver::run(source, dir, Overrides::default()).unwrap();
    let split = report.jobs[0].splits.iter().find(|s| s.name == "train").unwrap();
    assert_eq!(split.predictions.len(), split.rows);
    assert_eq!(split.inputs.len(), sampled);
    let kept: Vec<_> = split.hidden.iter().map(|(name, values)| (name.as_str(), values.len(), values.width)).collect();
    let convolution = &checked.jobs[0].job.model.layers[0].name;
    assert_eq!(kept, [(convolution.as_str(), sampled, 24 * 24 * 64)]);
}

/// ReLU units that are 0 on every row the report keeps and above 0 on a later one are
/// alive: the diagnosis counts every row as the evaluation runs. Each of the 30,000
/// units is `relu(w·x)` with `w` never 0 and unchanged by training (the next layer's
/// weights start at 0, so one step leaves the first layer as it was); `x` is 0 on the
/// first 290 rows, past the 279 the report keeps, and ±1 on the last 10.
#[test]
fn units_that_wake_after_the_kept_rows_are_not_called_dead() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let rows = 300;
    let mut text = String::from("x,y\n");
    for row in 0..rows {
        let x = if row < 290 {
            0.0
        } else if row % 2 == 0 {
            1.0
        } else {
            -1.0
        };
        text += &format!("{x},{}\n", row % 3);
    }
    std::fs::write(dir.join("late.csv"), text).unwrap();
    let source = "data d { file \"late.csv\"; features x; target y }\n\
                  model m { input 1; dense 30000 relu (bias_init = constant(0)); dense 1 (init = constant(0)) }\n\
                  train m on d { loss mse; optimizer sgd(lr = 0.1); epochs 1; batch 300 }\n";
    let checked = nnc_driver::check(source, dir, Overrides::default()).unwrap();
    let plan = &checked.jobs[0];
    let sampled = nnc_driver::sampled_rows(plan);
    assert_eq!(sampled, nnc_driver::SAMPLED_BYTES / (30_002 * 4));
    assert!(sampled < 290, "{sampled}");
    let report = nnc_driver::run(source, dir, Overrides::default()).unwrap();
    let split = report.jobs[0].splits.iter().find(|s| s.name == "train").unwrap();
    let kept = &split.hidden[0].1;
    assert_eq!(kept.len(), sampled);
    assert!(kept.values.iter().all(|&v| v == 0.0), "every kept row is 0 in every unit");
    let (layer, counts) = &split.units[0];
    assert_eq!((layer.as_str(), counts.rows), ("dense1", rows));
    assert!(counts.alive.iter().all(|&alive| alive), "each unit is above 0 on the rows of its sign's x");
    let findings = nnc_inspect::diagnosis::diagnose(plan, &report.jobs[0]);
    assert!(findings.iter().all(|f| f.kind != "dead_relu"), "{findings:?}");
    // The figure of the hidden states shows the kept rows, and says so.
    let figures = nnc_inspect::plots::job_figures(plan, &report.jobs[0], &[]);
    let hidden = figures.iter().find(|f| f.name == "m-hidden").unwrap();
    let shown = format!("on the first {sampled} of {rows} training rows");
    assert!(hidden.plot.title.ends_with(&shown), "{}", hidden.plot.title);
}

/// The report keeps the activations it shows: the pictured layer's (the first with two
/// units) on the training split, and every layer's on a split small enough to be listed
/// whole; the rest are only counted as they pass.
#[test]
fn a_report_keeps_the_pictured_layer_and_every_layer_of_a_listed_split() {
    for (rows, listed) in [(400, false), (100, true)] {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        let mut text = String::from("a,b,y\n");
        for row in 0..rows {
            let (a, b) = ((row % 7) as f32 / 7.0, (row % 5) as f32 / 5.0);
            text += &format!("{a},{b},{}\n", a - b);
        }
        std::fs::write(dir.join("d.csv"), text).unwrap();
        let source = "data d { file \"d.csv\"; features a b; target y; split 0.8 0.1 0.1 }\n\
                      model m { input 2; dense 8 relu; dense 2 tanh; dense 1 }\n\
                      train m on d { loss mse; optimizer sgd(lr = 0.1); epochs 1; batch 16 }\n";
        let checked = nnc_driver::check(source, dir, Overrides::default()).unwrap();
        let layers: Vec<&str> = checked.jobs[0].job.model.layers.iter().map(|l| l.name.as_str()).collect();
        let report = nnc_driver::run(source, dir, Overrides::default()).unwrap();
        assert_eq!(report.jobs[0].splits.len(), 3);
        for split in &report.jobs[0].splits {
            let kept: Vec<(&str, usize)> = split.hidden.iter().map(|(name, v)| (name.as_str(), v.width)).collect();
            let expected = match split.name.as_str() {
                "train" => vec![(layers[1], 2)],
                _ if listed => vec![(layers[0], 8), (layers[1], 2)],
                _ => vec![],
            };
            assert_eq!(kept, expected, "{rows} rows, {} split of {}", split.name, split.rows);
            assert!(split.hidden.iter().all(|(_, v)| v.len() == split.rows), "every row of a small split");
        }
    }
}
