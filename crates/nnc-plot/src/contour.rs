//! Contour lines by marching squares: for each level, the segments where a grid of values
//! crosses it, each cell's crossings joined by straight lines.

/// Line segments (in axis units) of every level of `grid` (rows along y from `y.0` to
/// `y.1`, columns along x), each as two points.
pub fn segments(grid: &[Vec<f64>], levels: &[f64], x: (f64, f64), y: (f64, f64)) -> Vec<Vec<(f64, f64)>> {
    let rows = grid.len();
    let columns = grid.first().map_or(0, Vec::len);
    if rows < 2 || columns < 2 {
        return Vec::new();
    }
    let at = |r: usize, c: usize| {
        (x.0 + (x.1 - x.0) * c as f64 / (columns - 1) as f64, y.0 + (y.1 - y.0) * r as f64 / (rows - 1) as f64)
    };
    let mut out = Vec::new();
    for &level in levels {
        let mut pieces = Vec::new();
        for r in 0..rows - 1 {
            for c in 0..columns - 1 {
                let corners = [(r, c), (r, c + 1), (r + 1, c + 1), (r + 1, c)];
                let values = corners.map(|(r, c)| grid[r][c]);
                if values.iter().any(|v| !v.is_finite()) {
                    continue;
                }
                // Where the level crosses each of the four edges.
                let crossings: Vec<(f64, f64)> = (0..4)
                    .filter_map(|edge| {
                        let (a, b) = (edge, (edge + 1) % 4);
                        let (va, vb) = (values[a], values[b]);
                        if (va < level) == (vb < level) {
                            return None;
                        }
                        let t = (level - va) / (vb - va);
                        let (pa, pb) = (at(corners[a].0, corners[a].1), at(corners[b].0, corners[b].1));
                        Some((pa.0 + t * (pb.0 - pa.0), pa.1 + t * (pb.1 - pa.1)))
                    })
                    .collect();
                // Two crossings: one segment; four (a saddle): two, paired in order.
                for pair in crossings.chunks(2).filter(|p| p.len() == 2) {
                    pieces.push(vec![pair[0], pair[1]]);
                }
            }
        }
        out.extend(chain(pieces));
    }
    out
}

/// Joins segments that share end points into polylines (a closed ring becomes one line).
fn chain(mut pieces: Vec<Vec<(f64, f64)>>) -> Vec<Vec<(f64, f64)>> {
    let close = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9;
    let mut lines = Vec::new();
    while let Some(mut line) = pieces.pop() {
        loop {
            let (first, last) = (line[0], line[line.len() - 1]);
            let Some(index) = pieces.iter().position(|p| {
                close(p[0], last) || close(p[p.len() - 1], last) || close(p[0], first) || close(p[p.len() - 1], first)
            }) else {
                break;
            };
            let mut piece = pieces.swap_remove(index);
            if close(piece[0], last) {
                line.extend(piece.drain(1..));
            } else if close(piece[piece.len() - 1], last) {
                piece.reverse();
                line.extend(piece.drain(1..));
            } else if close(piece[piece.len() - 1], first) {
                piece.pop();
                piece.extend(line);
                line = piece;
            } else {
                piece.reverse();
                piece.pop();
                piece.extend(line);
                line = piece;
            }
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::segments;

    #[test]
    fn a_circle_is_traced_through_every_cell_it_crosses() {
        let n = 21;
        let grid: Vec<Vec<f64>> = (0..n)
            .map(|r| {
                (0..n)
                    .map(|c| {
                        let (x, y) = (-1.0 + 2.0 * c as f64 / (n - 1) as f64, -1.0 + 2.0 * r as f64 / (n - 1) as f64);
                        x * x + y * y
                    })
                    .collect()
            })
            .collect();
        // 0.3, not 0.25: a level equal to grid values meets the nodes themselves.
        let lines = segments(&grid, &[0.3], (-1.0, 1.0), (-1.0, 1.0));
        assert_eq!(lines.len(), 1, "one closed ring");
        assert!(lines[0].len() > 12, "{} points", lines[0].len());
        for line in &lines {
            for &(x, y) in line {
                let radius = (x * x + y * y).sqrt();
                assert!((radius - 0.3f64.sqrt()).abs() < 0.02, "point ({x}, {y}) at radius {radius}");
            }
        }
    }
}
