//! Column typing: each used column is numeric or categorical, decided explicitly and
//! reported, never guessed from one odd cell.
//!
//! - A column listed in `categorical` is categorical.
//! - A column whose cells are all numbers (or missing) is numeric.
//! - A column with no numbers is categorical (text).
//! - A column that is mostly numbers with some other text (`abc`, `inf`) is an error
//!   naming the first odd cell: silently turning it into categories would train on
//!   nonsense. A column that is mostly text with a few number-like values (`2B`, `12`)
//!   is categorical.
//!
//! Missing cells are those the data's `missing_values` names (by default
//! [`crate::spec::DEFAULT_MISSING_VALUES`], compared exactly).

use crate::read::Table;
use crate::spec::{CsvSpec, Missing, is_marker};
use nnc_diagnostics::{Diagnostic, codes};

/// The type of one source column.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ColumnType {
    /// Values by row.
    Numeric(Numbers),
    Categorical,
}

/// A numeric column's values by row, NaN where the cell is missing: a cell that parses is
/// finite (see [`number`]), so NaN marks nothing else, and a value takes 4 bytes, not the
/// 8 of an `Option<f32>` (44 MB less for a million rows of eleven columns).
#[derive(Clone, Debug, Default)]
pub(crate) struct Numbers(Vec<f32>);

impl Numbers {
    pub fn get(&self, row: usize) -> Option<f32> {
        self.0.get(row).copied().filter(|v| !v.is_nan())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Every value, `None` where missing.
    pub fn to_options(&self) -> Vec<Option<f32>> {
        (0..self.len()).map(|row| self.get(row)).collect()
    }
}

impl PartialEq for Numbers {
    /// Equal when the same cells are missing and the rest are equal.
    fn eq(&self, other: &Numbers) -> bool {
        self.len() == other.len() && (0..self.len()).all(|row| self.get(row) == other.get(row))
    }
}

impl FromIterator<Option<f32>> for Numbers {
    fn from_iter<I: IntoIterator<Item = Option<f32>>>(values: I) -> Numbers {
        Numbers(values.into_iter().map(|v| v.unwrap_or(f32::NAN)).collect())
    }
}

/// A finite number that fits an f32.
fn number(cell: &str) -> Option<f32> {
    let value = plain_decimal(cell).or_else(|| cell.parse::<f64>().ok());
    let value = value.filter(|v| v.is_finite() && v.abs() <= f64::from(f32::MAX))?;
    Some(value as f32)
}

/// A plain decimal (`-12.5`: a sign, at most 15 digits, at most one point, no exponent)
/// as the f64 nearest to it, which is what `str::parse` gives, in at least a third less
/// time on a file of such numbers (most of them are). Both the digits as an integer (below 10¹⁵
/// < 2⁵³) and the power of ten (at most 10¹⁵) are exact f64s, so the one correctly
/// rounded division is the nearest f64 to the decimal (Clinger's fast path). Anything
/// else is `None`, for `str::parse`. The digits before and after the point are read by
/// two loops with one test per byte (a fifth faster than one loop that also looks for
/// the point). The sign is read and applied without a branch: signs fall at random in
/// real data, and each mispredicted branch cost as much as reading the digits (a million
/// rows of eleven random-signed cells: 163 ms to parse on one core with the branches, 102
/// without; reading the cell as one 16-byte word instead of byte by byte took 220).
fn plain_decimal(cell: &str) -> Option<f64> {
    const POWERS: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
    let bytes = cell.as_bytes();
    let first = *bytes.first()?;
    let negative = first == b'-';
    let body = &bytes[usize::from(negative | (first == b'+'))..];
    // 16 bytes hold at most 15 digits and a point, or 16 digits (refused below).
    if body.len() > 16 {
        return None;
    }
    let mut integer: u64 = 0;
    let mut whole = 0;
    for &byte in body {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        integer = integer * 10 + u64::from(digit);
        whole += 1;
    }
    let fraction = match body.get(whole) {
        None if whole == 0 || whole == 16 => return None,
        None => &[][..],
        Some(b'.') => &body[whole + 1..],
        Some(_) => return None,
    };
    for &byte in fraction {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        integer = integer * 10 + u64::from(digit);
    }
    if whole + fraction.len() == 0 {
        return None;
    }
    let magnitude = integer as f64 / POWERS[fraction.len().min(15)];
    Some(f64::from_bits(magnitude.to_bits() | (u64::from(negative) << 63)))
}

/// Types `column`, or explains the first cell that makes a numeric column unusable.
pub(crate) fn column_type(spec: &CsvSpec, table: &Table, column: usize) -> Result<ColumnType, Diagnostic> {
    column_types(spec, table, &[column]).pop().expect("one column typed")
}

/// Types each of `columns`, reading the table row by row: a row's cells lie together, so
/// a wide file is read in order instead of one far-apart cell per row and column (for
/// 1,000 columns, this made typing 3x faster).
pub(crate) fn column_types(spec: &CsvSpec, table: &Table, columns: &[usize]) -> Vec<Result<ColumnType, Diagnostic>> {
    let is_categorical = |column: usize| spec.categorical.iter().any(|c| c.name == table.header[column]);
    let mut tallies: Vec<Option<Tally>> =
        columns.iter().map(|&c| (!is_categorical(c)).then(|| Tally::new(spec, table, c))).collect();
    for (row, cells) in table.row_cells().enumerate() {
        for (tally, &column) in tallies.iter_mut().zip(columns) {
            if let Some(tally) = tally {
                tally.add(row, cells.cell(column));
            }
        }
    }
    tallies
        .into_iter()
        .zip(columns)
        .map(|(tally, &column)| match tally {
            None => Ok(ColumnType::Categorical),
            Some(tally) => tally.finish(spec, table, column),
        })
        .collect()
}

/// One column's cells so far: its values, how many were numbers, and the rows that were
/// neither a number nor a missing-value marker.
struct Tally<'a> {
    markers: &'a [String],
    /// A marker reads as a number (`-999`): it must be looked for before the number.
    numeric_marker: bool,
    values: Vec<f32>,
    numbers: usize,
    odd: Vec<usize>,
}

impl<'a> Tally<'a> {
    fn new(spec: &'a CsvSpec, table: &Table, column: usize) -> Tally<'a> {
        let markers = spec.missing_values.markers_for(&table.header[column]);
        let numeric_marker = markers.iter().any(|m| number(m).is_some());
        Tally { markers, numeric_marker, values: Vec::with_capacity(table.rows()), numbers: 0, odd: Vec::new() }
    }

    /// A cell is parsed first and compared with the markers only when it is not a number
    /// (most cells are numbers, and this is most of loading a large file).
    fn add(&mut self, row: usize, cell: &str) {
        match number(cell) {
            Some(value) if !(self.numeric_marker && is_marker(self.markers, cell)) => {
                self.numbers += 1;
                self.values.push(value);
            }
            Some(_) => self.values.push(f32::NAN),
            None if is_marker(self.markers, cell) => self.values.push(f32::NAN),
            None => {
                self.odd.push(row);
                self.values.push(f32::NAN);
            }
        }
    }

    fn finish(self, spec: &CsvSpec, table: &Table, column: usize) -> Result<ColumnType, Diagnostic> {
        let Tally { values, numbers, odd, .. } = self;
        let name = &table.header[column];
        if odd.is_empty() && numbers > 0 {
            return Ok(ColumnType::Numeric(Numbers(values)));
        }
        if numbers < odd.len() {
            return Ok(ColumnType::Categorical);
        }
        if numbers == 0 {
            return Err(Diagnostic::error(
                codes::MISSING_VALUE,
                format!("column `{name}` of `{}` has no values: every cell is missing", spec.path),
                spec.path_span,
                format!("column `{name}` of this file"),
            )
            .with_help(format!("leave `{name}` out of the features, or fill it in the file")));
        }
        let first = odd[0];
        let more = match odd.len() - 1 {
            0 => String::new(),
            n => format!(" (and {n} more)"),
        };
        Err(Diagnostic::error(
            codes::ODD_VALUE,
            format!(
                "column `{name}` of `{}` holds numbers, but line {} has `{}`{more}",
                spec.path,
                table.lines[first],
                table.cell(first, column)
            ),
            spec.path_span,
            format!("line {}, column {} (`{name}`)", table.lines[first], column + 1),
        )
        .with_note(format!(
            "{numbers} of {} cells in `{name}` are numbers; a number must be finite (no `inf`)",
            table.rows()
        ))
        .with_help(format!(
            "correct those cells in the file (write a missing value as an empty cell or `NA`); if `{name}` holds \
             categories, add `categorical {name}`"
        )))
    }
}

/// The first row at which a used column is missing, under `missing error`.
pub(crate) fn first_missing(
    spec: &CsvSpec,
    table: &Table,
    columns: &[usize],
    types: &[ColumnType],
) -> Result<(), Diagnostic> {
    if spec.missing != Missing::Error {
        return Ok(());
    }
    // Each column's first missing row, then the first of those (the leftmost column on
    // that row): a numeric column is one scan of its values, where looking at every row's
    // cells in turn went through each row's cells (on a million rows this check and the
    // class check took 10 ms instead of about 30, timed with `eprintln!`).
    let first_of_column = |(&column, column_type): (&usize, &ColumnType)| match column_type {
        ColumnType::Numeric(values) => values.0.iter().position(|v| v.is_nan()),
        ColumnType::Categorical => (0..table.rows())
            .find(|&row| spec.missing_values.is_missing(&table.header[column], table.cell(row, column))),
    };
    let firsts = columns.iter().zip(types).map(|pair| (first_of_column(pair), pair));
    // The first of equal rows is the leftmost column's.
    let first = firsts.filter_map(|(row, pair)| Some((row?, pair))).min_by_key(|&(row, _)| row);
    let Some((row, (&column, column_type))) = first else { return Ok(()) };
    let name = &table.header[column];
    let cell = table.cell(row, column);
    Err(Diagnostic::error(
        codes::MISSING_VALUE,
        format!("line {} of `{}` has no value for `{name}` ({})", table.lines[row], spec.path, shown(cell)),
        spec.path_span,
        format!("line {}, column {} (`{name}`)", table.lines[row], column + 1),
    )
    .with_notes(missing_values_note(name, cell, *column_type == ColumnType::Categorical))
    .with_help(
        "add `missing drop` to leave out rows with a missing value, or `missing mean` to fill numeric features \
         with the training mean",
    )
    .with_fix(spec.insert_at, "\n  missing drop"))
}

/// How to make `cell` an ordinary value (a category) of `column` instead of a missing one,
/// when it is not empty (an empty cell is always missing).
pub(crate) fn missing_values_note(column: &str, cell: &str, categorical: bool) -> Option<String> {
    let declare = if categorical {
        format!("add `missing_values {column}(\"\")` to the data")
    } else {
        format!("add `categorical {column}` and `missing_values {column}(\"\")` to the data")
    };
    (!cell.is_empty()).then(|| {
        format!(
            "if `{cell}` is a category of `{column}`, not a missing value, {declare}: then only an empty cell is \
             missing in `{column}`"
        )
    })
}

/// A cell as a message shows it: `NA`, or "empty".
pub(crate) fn shown(cell: &str) -> String {
    if cell.is_empty() { "empty".to_string() } else { format!("`{cell}`") }
}

#[cfg(test)]
mod tests {
    use super::{number, plain_decimal};

    /// The fast path's first form, a byte at a time: the reference it must agree with.
    fn byte_by_byte(cell: &str) -> Option<f64> {
        let bytes = cell.as_bytes();
        let (negative, body) = match bytes.first()? {
            b'-' => (true, &bytes[1..]),
            b'+' => (false, &bytes[1..]),
            _ => (false, bytes),
        };
        let whole = body.iter().take_while(|b| b.is_ascii_digit()).count();
        let fraction = match body.get(whole) {
            None => &[][..],
            Some(b'.') => &body[whole + 1..],
            Some(_) => return None,
        };
        let digits = whole + fraction.len();
        if body.len() > 16 || digits == 0 || digits > 15 || !fraction.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let integer = body.iter().filter(|b| b.is_ascii_digit()).fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
        let magnitude = integer as f64 / 10f64.powi(fraction.len() as i32);
        Some(if negative { -magnitude } else { magnitude })
    }

    /// The fast path gives what `str::parse` gives, to the bit, wherever it answers, and
    /// leaves every other form to it.
    #[test]
    fn plain_decimals_parse_as_the_standard_library_does() {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || crate::xorshift(&mut state);
        let mut answered = 0;
        for _ in 0..200_000 {
            let digits = (next() % 17) as usize;
            let mut cell: String = (0..digits).map(|_| char::from(b'0' + (next() % 10) as u8)).collect();
            if digits > 0 && next() % 4 != 0 {
                let at = (next() % (digits as u64 + 1)) as usize;
                cell.insert(at, '.');
            }
            match next() % 3 {
                0 => cell.insert(0, '-'),
                1 => cell.insert(0, '+'),
                _ => {}
            }
            let fast = plain_decimal(&cell);
            if let Some(value) = fast {
                answered += 1;
                let standard: f64 = cell.parse().unwrap_or_else(|_| panic!("`{cell}` is a number"));
                assert_eq!(value.to_bits(), standard.to_bits(), "`{cell}`");
            }
        }
        assert!(answered > 100_000, "the fast path answered {answered} times");
        for cell in ["", "-", "+", ".", "-.", "1e5", "1.2.3", "0x10", "inf", "NaN", "1_000", "١٢", "1234567890123456"]
        {
            assert_eq!(plain_decimal(cell), None, "`{cell}`");
        }
        assert_eq!(plain_decimal("-0.0").map(f64::to_bits), Some((-0.0f64).to_bits()));
        // Every length up to 17 characters with the point (or an odd byte) at every place.
        for length in 0..=17 {
            for place in 0..=length {
                for odd in [b'.', b'e', b'/', b':', b' ', 0xC2] {
                    for sign in ["", "-", "+"] {
                        let mut bytes: Vec<u8> = (0..length).map(|i| b"9081726354"[i % 10]).collect();
                        if place < length {
                            bytes[place] = odd;
                        }
                        let Ok(body) = String::from_utf8(bytes) else { continue };
                        let cell = format!("{sign}{body}");
                        let (fast, slow) = (plain_decimal(&cell), byte_by_byte(&cell));
                        assert_eq!(fast.map(f64::to_bits), slow.map(f64::to_bits), "`{cell}`");
                    }
                }
            }
        }
        assert_eq!(
            (number(".5"), number("5."), number("1e39"), number("-1.5e3")),
            (Some(0.5), Some(5.0), None, Some(-1500.0))
        );
    }
}
