"""Splits digits.csv for examples/digits_similarity.nn (standard library only, seeded).

- train_0to6.csv: 75% of the digits 0-6, what the embedding is trained on and the
  database that the test rows of the same classes are identified against;
- test_0to6.csv: the other 25% of the digits 0-6;
- gallery_7to9.csv and probe_7to9.csv: the digits 7-9, never seen in training, halved:
  the enrolled "faces" and the new photos to verify against them;
- new_photos.csv: the first 20 rows of probe_7to9.csv without their label, as new photos
  come: to match, with no identity to score against;
- train_all.csv and test_all.csv: all ten digits, 75% and 25% (a shuffle of its own, so
  the files above stay as they were), for examples/digits_identify.nn: every class known,
  the test rows identified against the training rows.

Run from examples/data: python3 make_digits_similarity.py
"""

import csv
import random

with open("digits.csv", newline="") as f:
    reader = csv.reader(f)
    header = next(reader)
    rows = list(reader)

rng = random.Random(7)
seen = [r for r in rows if int(r[-1]) <= 6]
unseen = [r for r in rows if int(r[-1]) >= 7]
rng.shuffle(seen)
rng.shuffle(unseen)
cut = len(seen) * 3 // 4
half = len(unseen) // 2
parts = {
    "train_0to6.csv": seen[:cut],
    "test_0to6.csv": seen[cut:],
    "gallery_7to9.csv": unseen[:half],
    "probe_7to9.csv": unseen[half:],
}
for name, part in parts.items():
    with open(f"digits_similarity/{name}", "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(part)
    print(name, len(part))
with open("digits_similarity/new_photos.csv", "w", newline="") as f:
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow(header[:-1])
    writer.writerows(row[:-1] for row in parts["probe_7to9.csv"][:20])

everything = list(rows)
random.Random(8).shuffle(everything)
cut = len(everything) * 3 // 4
for name, part in {"train_all.csv": everything[:cut], "test_all.csv": everything[cut:]}.items():
    with open(f"digits_similarity/{name}", "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(part)
    print(name, len(part))
