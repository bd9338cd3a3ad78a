//! Image folders as users hand them over: PNG and JPEG, grey and colour, other sizes,
//! broken files, stray files, a class named like a missing-value marker.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use image::{GrayImage, Luma, Rgb, RgbImage};
use nnc_data::{Color, DataSpec, ImageSpec, LoadOptions, Name, Prepared, Room, Source, Split};
use nnc_diagnostics::{Diagnostic, Span};
use std::path::Path;

fn spec(resize: Option<[usize; 2]>, color: Option<Color>) -> DataSpec {
    let span = Span { start: 0, end: 0 };
    let images = ImageSpec { path: "images".into(), path_span: span, resize, color, split: Split::all_train(span) };
    DataSpec { name: Name { name: "d".into(), span }, source: Source::Images(images), span }
}

fn load(dir: &Path, spec: &DataSpec) -> Result<Prepared, Vec<Diagnostic>> {
    nnc_data::load(spec, dir, LoadOptions { output_width: 2, seed: 0, room: Room::unlimited() })
}

fn message(result: Result<Prepared, Vec<Diagnostic>>) -> String {
    let Err(errors) = result else { panic!("expected a diagnostic") };
    errors.iter().map(|d| format!("{} {}", d.code.id, d.message)).collect::<Vec<_>>().join("\n")
}

/// `images/<class>/<name>`: a grey image of `size` whose pixels are all `level`.
fn grey(dir: &Path, class: &str, name: &str, size: [u32; 2], level: u8) {
    std::fs::create_dir_all(dir.join("images").join(class)).unwrap();
    GrayImage::from_pixel(size[1], size[0], Luma([level])).save(dir.join("images").join(class).join(name)).unwrap();
}

#[test]
fn grey_pngs_become_rows_of_pixels_in_zero_one_and_their_folder_is_the_class() {
    let dir = tempfile::tempdir().unwrap();
    grey(dir.path(), "dark", "a.png", [2, 3], 0);
    grey(dir.path(), "light", "b.png", [2, 3], 255);
    grey(dir.path(), "light", "c.PNG", [2, 3], 51);
    std::fs::write(dir.path().join("images/light/notes.txt"), "not an image").unwrap();
    std::fs::write(dir.path().join("images/light/.hidden.png"), "not read").unwrap();
    let data = load(dir.path(), &spec(None, None)).unwrap();
    assert_eq!(data.train.rows, 3);
    assert_eq!(data.train.n_inputs(), 6, "2x3 pixels, one channel");
    assert_eq!(data.task.class_names(), ["dark", "light"]);
    let mut rows: Vec<Vec<f32>> = (0..3).map(|r| data.train.input_row(r).to_vec()).collect();
    rows.sort_by(|a, b| a[0].total_cmp(&b[0]));
    assert_eq!(rows, [vec![0.0; 6], vec![0.2; 6], vec![1.0; 6]]);
}

#[test]
fn colour_jpegs_give_three_channels_and_resize_makes_one_size() {
    let dir = tempfile::tempdir().unwrap();
    for (class, size) in [("red", [8u32, 8]), ("blue", [16, 12])] {
        std::fs::create_dir_all(dir.path().join("images").join(class)).unwrap();
        let colour = if class == "red" { Rgb([255, 0, 0]) } else { Rgb([0, 0, 255]) };
        RgbImage::from_pixel(size[1], size[0], colour)
            .save(dir.path().join("images").join(class).join("x.jpg"))
            .unwrap();
    }
    let odd = message(load(dir.path(), &spec(None, None)));
    assert!(odd.contains("E0428") && odd.contains("x.jpg") && odd.contains("16x12"), "{odd}");
    let data = load(dir.path(), &spec(Some([4, 4]), None)).unwrap();
    assert_eq!(data.train.n_inputs(), 4 * 4 * 3, "RGB, channels last");
    let red = (0..2).map(|r| data.train.input_row(r)).find(|row| row[0] > 0.5).unwrap();
    assert!(red[0] > 0.9 && red[1] < 0.1 && red[2] < 0.1, "{:?}", &red[..3]);
    let grey = load(dir.path(), &spec(Some([4, 4]), Some(Color::Grey))).unwrap();
    assert_eq!(grey.train.n_inputs(), 16);
}

#[test]
fn a_class_named_none_is_a_class_not_a_missing_value() {
    let dir = tempfile::tempdir().unwrap();
    grey(dir.path(), "None", "a.png", [2, 2], 10);
    grey(dir.path(), "NA", "b.png", [2, 2], 200);
    let data = load(dir.path(), &spec(None, None)).unwrap();
    assert_eq!(data.task.class_names(), ["NA", "None"]);
}

#[test]
fn broken_and_missing_images_are_diagnostics_naming_the_file_or_folder() {
    let dir = tempfile::tempdir().unwrap();
    assert!(message(load(dir.path(), &spec(None, None))).contains("cannot read image folder `images`"));
    grey(dir.path(), "one", "a.png", [2, 2], 0);
    let one = message(load(dir.path(), &spec(None, None)));
    assert!(one.contains("one class folder"), "{one}");
    std::fs::create_dir_all(dir.path().join("images/two")).unwrap();
    let empty = message(load(dir.path(), &spec(None, None)));
    assert!(empty.contains("class folder `images/two` has no PNG or JPEG images"), "{empty}");
    std::fs::write(dir.path().join("images/two/broken.png"), b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let broken = message(load(dir.path(), &spec(None, None)));
    assert!(broken.contains("E0428") && broken.contains("images/two/broken.png"), "{broken}");
}

#[test]
fn a_folder_that_would_not_fit_the_memory_left_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    grey(dir.path(), "a", "a.png", [64, 64], 0);
    grey(dir.path(), "b", "b.png", [64, 64], 0);
    let room = Room { bytes: 1000, described: "1000 bytes".into(), remedy: "raise the limit".into() };
    let result = nnc_data::load(&spec(None, None), dir.path(), LoadOptions { output_width: 2, seed: 0, room });
    assert!(message(result).contains("E0309"));
}
