// Tokenises .nn files with editors/nn.tmLanguage.json by TextMate's rules (the subset the
// grammar uses: match, begin/end with captures, include of repository rules) and fails
// when a character is left unscoped or marked invalid, or a region (block, bracket) is
// still open at the end of a file.
//
//   node editors/test/tokenize.js FILE...
"use strict";
const fs = require("fs");
const path = require("path");

const grammar = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "nn.tmLanguage.json"), "utf8"));

function resolve(patterns) {
  const out = [];
  for (const p of patterns) {
    if (p.include) {
      const rule = grammar.repository[p.include.slice(1)];
      if (!rule) throw new Error("unknown include " + p.include);
      out.push(...(rule.patterns && !rule.begin && !rule.match ? resolve(rule.patterns) : [rule]));
    } else if (p.patterns && !p.begin && !p.match) {
      out.push(...resolve(p.patterns));
    } else {
      out.push(p);
    }
  }
  return out;
}

function regex(source) {
  return new RegExp(source, "g");
}

/// The earliest match at or after `pos` among `candidates` (first listed wins ties).
function earliest(line, pos, candidates) {
  let best = null;
  for (const c of candidates) {
    const re = regex(c.source);
    re.lastIndex = pos;
    const m = re.exec(line);
    if (m && m[0].length > 0 && (best === null || m.index < best.match.index)) {
      best = { match: m, candidate: c };
    }
  }
  return best;
}

function tokenize(file) {
  const problems = [];
  const stack = []; // open begin/end rules
  const lines = fs.readFileSync(file, "utf8").split("\n");
  lines.forEach((line, number) => {
    let pos = 0;
    while (pos < line.length) {
      const top = stack.length ? stack[stack.length - 1] : null;
      const patterns = resolve(top ? top.patterns : grammar.patterns);
      const candidates = patterns.map((p) => ({ source: p.match || p.begin, rule: p }));
      if (top) candidates.unshift({ source: top.end, rule: null, end: true });
      const found = earliest(line, pos, candidates);
      const stop = found ? found.match.index : line.length;
      const gap = line.slice(pos, stop);
      if (gap.trim() !== "") {
        problems.push(`${file}:${number + 1}:${pos + 1}: unscoped text "${gap.trim()}"`);
      }
      if (!found) break;
      const { match, candidate } = found;
      if (candidate.end) {
        stack.pop();
      } else if (candidate.rule.begin) {
        stack.push(candidate.rule);
      } else if ((candidate.rule.name || "").startsWith("invalid")) {
        problems.push(`${file}:${number + 1}:${match.index + 1}: invalid "${match[0]}"`);
      }
      pos = match.index + match[0].length;
    }
  });
  if (stack.length) {
    problems.push(`${file}: ${stack.length} region(s) still open at the end (${stack.map((r) => r.name).join(", ")})`);
  }
  return problems;
}

const files = process.argv.slice(2);
const problems = files.flatMap(tokenize);
for (const p of problems) console.error(p);
console.log(`${files.length} files tokenised, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
