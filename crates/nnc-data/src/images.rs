//! A folder of images, one sub-folder per class, as a table: one row per image, its pixels
//! scaled to [0, 1] (row by row, channels last: `p0` is the top-left pixel's first
//! channel), then its class. PNG and JPEG, grey or colour; files with other extensions
//! and hidden files are left out, as Keras and torchvision do. Every problem names the
//! file: an image that does not decode, one of another size (without `resize`), a class
//! folder without images.

use crate::read::{Room, Table};
use crate::spec::{Color, ImageSpec};
use image::imageops::FilterType;
use image::{DynamicImage, GenericImageView};
use nnc_diagnostics::{Diagnostic, codes};
use std::path::{Path, PathBuf};

/// The name of the class column.
pub(crate) const CLASS_COLUMN: &str = "class";

/// Bytes of memory a pixel takes while it is held as text and encoded.
const MEMORY_PER_PIXEL: u64 = 32;

const EXTENSIONS: &[&str] = &["png", "jpg", "jpeg"];

/// Reads every image of `spec`'s folder into a table of pixel columns and a class column.
pub(crate) fn read(spec: &ImageSpec, base_dir: &Path, room: &Room) -> Result<Table, Diagnostic> {
    let root = base_dir.join(&spec.path);
    let classes = class_folders(spec, &root)?;
    let mut files: Vec<(PathBuf, &str)> = Vec::new();
    for (class, folder) in &classes {
        let images = image_files(spec, folder)?;
        if images.is_empty() {
            return Err(fail(spec, format!("class folder `{}` has no PNG or JPEG images", shown(base_dir, folder)))
                .with_help("add images to it, or remove the folder"));
        }
        files.extend(images.into_iter().map(|f| (f, class.as_str())));
    }
    let size = match spec.resize {
        Some(size) => size,
        None => first_size(spec, base_dir, &files[0].0)?,
    };
    let color = match spec.color {
        Some(color) => color,
        None => infer_color(spec, base_dir, &files)?,
    };
    let pixels = size[0] * size[1] * color.channels();
    check_room(spec, room, files.len(), pixels)?;
    let mut header: Vec<String> = (0..pixels).map(|i| format!("p{i}")).collect();
    header.push(CLASS_COLUMN.to_string());
    let mut table = Table::new(header);
    for (index, (file, class)) in files.iter().enumerate() {
        let values = pixels_of(spec, base_dir, file, size, color)?;
        // Shortest text that reads back as the same f32: the table is exact.
        let cells: Vec<String> = values.iter().map(f32::to_string).collect();
        let row = cells.iter().map(String::as_str).chain(std::iter::once(*class));
        if !table.push_row(row, index as u64 + 1) {
            return Err(fail(spec, format!("an image in `{}` holds more than 4 GiB of values", spec.path)));
        }
    }
    Ok(table)
}

fn fail(spec: &ImageSpec, message: String) -> Diagnostic {
    Diagnostic::error(codes::IMAGE_FOLDER, message, spec.path_span, "in this folder")
}

/// `path` as the user would write it: relative to the program's folder.
fn shown(base_dir: &Path, path: &Path) -> String {
    path.strip_prefix(base_dir).unwrap_or(path).display().to_string()
}

fn hidden(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_none_or(|n| n.starts_with('.'))
}

/// The class sub-folders, sorted by name (the class order of the one-hot targets).
fn class_folders(spec: &ImageSpec, root: &Path) -> Result<Vec<(String, PathBuf)>, Diagnostic> {
    let entries = std::fs::read_dir(root).map_err(|e| {
        fail(spec, format!("cannot read image folder `{}`", spec.path))
            .with_note(e.to_string())
            .with_help("paths are relative to the folder of the .nn file; the folder holds one sub-folder per class")
    })?;
    let mut classes: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !hidden(p))
        .filter_map(|p| Some((p.file_name()?.to_str()?.to_string(), p)))
        .collect();
    classes.sort();
    if classes.len() < 2 {
        let found = if classes.is_empty() { "no class folders".to_string() } else { "one class folder".to_string() };
        return Err(fail(spec, format!("image folder `{}` has {found}", spec.path)).with_help(
            "put each class's images in a sub-folder named after the class, such as `circle/` and `square/`",
        ));
    }
    Ok(classes)
}

/// A class folder's PNG and JPEG files, sorted by name.
fn image_files(spec: &ImageSpec, folder: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    let entries = std::fs::read_dir(folder)
        .map_err(|e| fail(spec, format!("cannot read class folder `{}`", folder.display())).with_note(e.to_string()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && !hidden(p))
        .filter(|p| {
            let extension = p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
            extension.is_some_and(|e| EXTENSIONS.contains(&e.as_str()))
        })
        .collect();
    files.sort();
    Ok(files)
}

fn open(spec: &ImageSpec, base_dir: &Path, file: &Path) -> Result<DynamicImage, Diagnostic> {
    image::open(file).map_err(|e| {
        fail(spec, format!("image `{}` cannot be read", shown(base_dir, file)))
            .with_note(e.to_string())
            .with_help("replace or remove the file; PNG and JPEG images are read")
    })
}

/// The first image's height and width: the size every image must have without `resize`.
fn first_size(spec: &ImageSpec, base_dir: &Path, file: &Path) -> Result<[usize; 2], Diagnostic> {
    let (width, height) = image::image_dimensions(file).map_err(|e| {
        fail(spec, format!("image `{}` cannot be read", shown(base_dir, file))).with_note(e.to_string())
    })?;
    Ok([height as usize, width as usize])
}

/// Grey when every image is grey (with or without alpha), else RGB.
fn infer_color(spec: &ImageSpec, base_dir: &Path, files: &[(PathBuf, &str)]) -> Result<Color, Diagnostic> {
    for (file, _) in files {
        if open(spec, base_dir, file)?.color().has_color() {
            return Ok(Color::Rgb);
        }
    }
    Ok(Color::Grey)
}

fn check_room(spec: &ImageSpec, room: &Room, images: usize, pixels: usize) -> Result<(), Diagnostic> {
    let need = (images as u64).saturating_mul(pixels as u64).saturating_mul(MEMORY_PER_PIXEL);
    if need <= room.bytes {
        return Ok(());
    }
    Err(Diagnostic::error(
        codes::TOO_LARGE,
        format!(
            "reading {images} images of {pixels} numbers from `{}` needs about {} MiB of memory, more than {}",
            spec.path,
            need >> 20,
            room.described
        ),
        spec.path_span,
        "this folder",
    )
    .with_note(format!("reading images takes about {MEMORY_PER_PIXEL} bytes of memory per number"))
    .with_help(format!("use `resize` to make the images smaller, fewer images, or {}", room.remedy)))
}

/// One image's pixels in [0, 1], height × width × channels, channels last.
fn pixels_of(
    spec: &ImageSpec,
    base_dir: &Path,
    file: &Path,
    [height, width]: [usize; 2],
    color: Color,
) -> Result<Vec<f32>, Diagnostic> {
    let mut image = open(spec, base_dir, file)?;
    let (w, h) = image.dimensions();
    if (h as usize, w as usize) != (height, width) {
        if spec.resize.is_none() {
            return Err(fail(
                spec,
                format!("image `{}` is {h}x{w}, the first image is {height}x{width}", shown(base_dir, file)),
            )
            .with_help(format!("add `resize {height} {width}` to resize every image (height, width)")));
        }
        image = image.resize_exact(width as u32, height as u32, FilterType::Triangle);
    }
    let scale = |v: u8| f32::from(v) / 255.0;
    Ok(match color {
        Color::Grey => image.to_luma8().into_raw().into_iter().map(scale).collect(),
        Color::Rgb => image.to_rgb8().into_raw().into_iter().map(scale).collect(),
    })
}

/// The folder as a CSV file (the pixel columns and the class), for tools that read CSV: the
/// PyTorch project `nnc export` writes. Row `i` is line `i + 2`.
pub fn as_csv(spec: &ImageSpec, base_dir: &Path) -> Result<Vec<u8>, Diagnostic> {
    let table = read(spec, base_dir, &Room::unlimited())?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = table.header.iter().map(String::as_str).collect();
    for record in std::iter::once(header).chain(table.records()) {
        writer.write_record(&record).map_err(|e| fail(spec, format!("cannot write `{}` as CSV: {e}", spec.path)))?;
    }
    writer.into_inner().map_err(|e| fail(spec, format!("cannot write `{}` as CSV: {e}", spec.path)))
}
