#!/usr/bin/env python3
"""Run openCypher TCK scenarios against dsgraph through `dsctl query --json`.

Each scenario gets a fresh `dsgraphd --foreground` on an empty database, exactly
as the external conformance runs do. The .feature files are not shipped with
dsgraph (see tests/tck/README.md); point --features at a copy of the TCK's
tck/features directory (or any directory of .feature files).

Only the Python standard library is used.
"""
import copy
import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

# --------------------------------------------------------------------------
# Gherkin parsing


class Scenario:
    """One runnable scenario (an Outline is expanded into one per example row)."""

    def __init__(self, feature, name, path):
        self.feature = feature
        self.name = name
        self.path = path
        self.graph = "empty"          # empty | any | <named graph>
        self.setup = []               # queries run before the test query
        self.params = {}              # name -> TCK literal text
        self.query = None
        self.expect = None            # ("rows", ordered, ignore_list_order, header, rows)
        #                               ("empty",) | ("error", type, phase, code)
        self.side_effects = None      # dict or None (None: not checked)
        self.unsupported = None       # reason a scenario cannot be run here
        self.earlier = []             # (query, expect, side_effects) of each When before the last


def split_row(line):
    """Split a Gherkin table row on '|' outside single/double-quoted strings."""
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    cells, cur, quote, i = [], [], None, 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line):
            # Gherkin's own cell escapes: \\ is one backslash, \| a bar
            if line[i + 1] == "|" and quote is None:
                cur.append("|")
            elif line[i + 1] == "\\":
                cur.append("\\")
            else:
                cur.append(c)
                cur.append(line[i + 1])
            i += 2
            continue
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "|":
            cells.append("".join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    cells.append("".join(cur).strip())
    return cells


def parse_feature(path):
    """Parse a .feature file into raw scenario blocks: (kind, name, steps, examples)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    feature = os.path.basename(path).rsplit(".", 1)[0]
    blocks = []
    cur = None
    tags = []
    i = 0
    while i < len(lines):
        raw = lines[i]
        s = raw.strip()
        i += 1
        if not s or s.startswith("#"):
            continue
        if s.startswith("Feature:"):
            continue
        if s.startswith("Background:"):
            cur = {"kind": "background", "name": "", "steps": [], "examples": []}
            blocks.append(cur)
            continue
        m = re.match(r"Scenario( Outline)?:\s*(.*)", s)
        if m:
            cur = {"kind": "outline" if m.group(1) else "scenario", "name": m.group(2),
                   "steps": [], "examples": [], "tags": tags}
            tags = []
            blocks.append(cur)
            continue
        if s.startswith("Examples:"):
            cur["examples"].append([])
            continue
        if s.startswith("@"):
            tags += s.split()
            continue
        if s.startswith('"""'):
            indent = len(raw) - len(raw.lstrip())
            doc = []
            while i < len(lines) and not lines[i].strip().startswith('"""'):
                line = lines[i]
                doc.append(line[indent:] if line[:indent].strip() == "" else line.lstrip())
                i += 1
            i += 1
            cur["steps"][-1]["doc"] = "\n".join(doc)
            continue
        if s.startswith("|"):
            row = split_row(s)
            if cur["examples"] and (not cur["steps"] or cur["steps"][-1].get("after_examples")):
                cur["examples"][-1].append(row)
            elif cur["examples"]:
                cur["examples"][-1].append(row)
            else:
                cur["steps"][-1].setdefault("table", []).append(row)
            continue
        m = re.match(r"(Given|When|Then|And|But)\s+(.*)", s)
        if m and cur is not None:
            cur["steps"].append({"text": m.group(2)})
    background = [b for b in blocks if b["kind"] == "background"]
    bg_steps = background[0]["steps"] if background else []
    out = []
    for b in blocks:
        if b["kind"] == "background":
            continue
        first = len(out)
        if b["kind"] == "outline":
            for table in b["examples"]:
                if not table:
                    continue
                header = table[0]
                for n, row in enumerate(table[1:], 1):
                    subst = dict(zip(header, row))
                    out.append(build_scenario(feature, "%s #%d" % (b["name"], n), path,
                                              bg_steps + b["steps"], subst))
        else:
            out.append(build_scenario(feature, b["name"], path, bg_steps + b["steps"], {}))
        if "@skip" in b.get("tags", []):   # the TCK marks scenarios implementations need not pass
            for sc in out[first:]:
                sc.unsupported = "tagged @skip"
    return out


def substitute(text, subst):
    """Replace <name> placeholders of a Scenario Outline."""
    if text is None:
        return None
    for k, v in subst.items():
        text = text.replace("<%s>" % k, v)
    return text


def build_scenario(feature, name, path, steps, subst):
    """Turn Gherkin steps into a Scenario."""
    sc = Scenario(feature, name, path)
    for st in steps:
        text = substitute(st["text"], subst)
        doc = substitute(st.get("doc"), subst)
        table = [[substitute(c, subst) for c in r] for r in st.get("table", [])]
        if text.startswith("an empty graph"):
            sc.graph = "empty"
        elif text.startswith("any graph"):
            sc.graph = "any"
        elif re.match(r"the (\S+) graph", text):
            sc.graph = re.match(r"the (\S+) graph", text).group(1)
        elif text.startswith("having executed"):
            sc.setup.append(doc)
        elif text.startswith("parameters are"):
            for r in table:
                if len(r) >= 2:
                    sc.params[r[0]] = r[1]
        elif text.startswith("there exists a procedure"):
            sc.unsupported = "procedure definition"
        elif text.startswith("executing query") or text.startswith("executing control query"):
            # a scenario may have several When/Then pairs (a query, then a control
            # query): each earlier one is run and checked in order on the same graph
            if sc.query is not None:
                sc.earlier.append((sc.query, sc.expect, sc.side_effects))
                sc.expect = sc.side_effects = None
            sc.query = doc
        elif text.startswith("the result should be empty"):
            sc.expect = ("empty",)
        elif text.startswith("the result should be"):
            ordered = "in order" in text and "any order" not in text
            ignore = "ignoring element order for lists" in text
            sc.expect = ("rows", ordered, ignore, table[0] if table else [], table[1:])
        elif text.startswith("no side effects"):
            sc.side_effects = {}
        elif text.startswith("the side effects should be"):
            sc.side_effects = {r[0]: int(r[1]) for r in table if len(r) >= 2}
        else:
            m = re.match(r"an? (\w+) should be raised at (compile time|runtime|any time): (\w+|\*)", text)
            if m:
                phase = {"compile time": "compile", "runtime": "runtime"}.get(m.group(2))
                sc.expect = ("error", m.group(1), phase, m.group(3))
            else:
                sc.unsupported = "unknown step: " + text
    if sc.query is None and not sc.unsupported:
        sc.unsupported = "no query"
    return sc


# --------------------------------------------------------------------------
# TCK value literals -> comparable form


class ValueParser:
    """Recursive-descent parser for the TCK's expected-value notation."""

    def __init__(self, text):
        self.t = text
        self.i = 0

    def ws(self):
        while self.i < len(self.t) and self.t[self.i].isspace():
            self.i += 1

    def peek(self):
        self.ws()
        return self.t[self.i] if self.i < len(self.t) else ""

    def expect(self, s):
        self.ws()
        if not self.t.startswith(s, self.i):
            raise ValueError("expected %r at %d in %r" % (s, self.i, self.t))
        self.i += len(s)

    def parse_all(self):
        v = self.value()
        self.ws()
        if self.i != len(self.t):
            raise ValueError("trailing text in %r" % self.t)
        return v

    def ident(self):
        self.ws()
        if self.i < len(self.t) and self.t[self.i] == "`":
            j = self.t.index("`", self.i + 1)
            name = self.t[self.i + 1:j]
            self.i = j + 1
            return name
        m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.t, self.i)
        if not m:
            raise ValueError("expected name at %d in %r" % (self.i, self.t))
        self.i = m.end()
        return m.group(0)

    def string(self):
        q = self.t[self.i]
        self.i += 1
        out = []
        while self.i < len(self.t):
            c = self.t[self.i]
            if c == "\\" and self.i + 1 < len(self.t):
                nxt = self.t[self.i + 1]
                out.append({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
                self.i += 2
                continue
            if c == q:
                self.i += 1
                return ("str", "".join(out))
            out.append(c)
            self.i += 1
        raise ValueError("unterminated string in %r" % self.t)

    def props(self):
        if self.peek() != "{":
            return ("map", ())
        return self.map()

    def map(self):
        self.expect("{")
        items = []
        if self.peek() != "}":
            while True:
                k = self.ident()
                self.expect(":")
                items.append((k, self.value()))
                if self.peek() == ",":
                    self.i += 1
                    continue
                break
        self.expect("}")
        return ("map", tuple(sorted(items)))

    def node(self):
        self.expect("(")
        labels = []
        if self.peek() not in (":", "{", ")"):
            self.ident()  # a variable name inside a node literal carries no value
        while self.peek() == ":":
            self.i += 1
            labels.append(self.ident())
        p = self.props()
        self.expect(")")
        return ("node", tuple(sorted(labels)), p)

    def rel(self):
        self.expect("[")
        typ = None
        if self.peek() not in (":", "{", "]"):
            self.ident()
        if self.peek() == ":":
            self.i += 1
            typ = self.ident()
        p = self.props()
        self.expect("]")
        return ("rel", typ, p)

    def path(self):
        self.expect("<")
        parts = [self.node()]
        while self.peek() in ("-", "<"):
            if self.peek() == "<":
                self.expect("<-")
                r = self.rel()
                self.expect("-")
                parts.append(("dir", "in", r))
            else:
                self.expect("-")
                r = self.rel()
                self.expect("-")
                if self.peek() == ">":
                    self.i += 1
                    parts.append(("dir", "out", r))
                else:
                    parts.append(("dir", "undirected", r))
            parts.append(self.node())
        self.expect(">")
        return ("path", tuple(parts))

    def value(self):
        c = self.peek()
        if c in "'\"":
            return self.string()
        if c == "(":
            return self.node()
        if c == "<":
            return self.path()
        if c == "{":
            return self.map()
        if c == "[":
            j = self.i + 1
            while j < len(self.t) and self.t[j].isspace():
                j += 1
            if j < len(self.t) and self.t[j] == ":":
                return self.rel()
            self.i += 1
            items = []
            if self.peek() != "]":
                while True:
                    items.append(self.value())
                    if self.peek() == ",":
                        self.i += 1
                        continue
                    break
            self.expect("]")
            return ("list", tuple(items))
        m = re.compile(r"-?(?:Infinity|NaN|inf)|-?\d+\.\d*(?:[eE][-+]?\d+)?|-?\.\d+(?:[eE][-+]?\d+)?"
                       r"|-?\d+[eE][-+]?\d+|-?0x[0-9a-fA-F]+|-?\d+").match(self.t, self.i)
        if m:
            s = m.group(0)
            self.i = m.end()
            if "Infinity" in s or "inf" in s:
                return ("float", -math.inf if s.startswith("-") else math.inf)
            if "NaN" in s:
                return ("float", math.nan)
            if "x" in s:
                return ("int", int(s, 16))
            if re.fullmatch(r"-?\d+", s):
                return ("int", int(s))
            return ("float", float(s))
        for word, v in (("null", ("null",)), ("true", ("bool", True)), ("false", ("bool", False))):
            if self.t.startswith(word, self.i):
                self.i += len(word)
                return v
        raise ValueError("cannot parse value at %d in %r" % (self.i, self.t))


def from_json(v):
    """Our JSON output -> the comparable form used for TCK literals."""
    if v is None:
        return ("null",)
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, int):
        return ("int", v)
    if isinstance(v, float):
        return ("float", v)
    if isinstance(v, str):
        return ("str", v)
    if isinstance(v, list):
        return ("list", tuple(from_json(x) for x in v))
    if isinstance(v, dict):
        if len(v) == 1 and "$node" in v:
            n = v["$node"]
            return ("node", tuple(sorted(n.get("labels", []))), from_json_map(n.get("properties", {})))
        if len(v) == 1 and "$rel" in v:
            r = v["$rel"]
            return ("rel", r.get("type"), from_json_map(r.get("properties", {})))
        if len(v) == 1 and "$path" in v:
            items = v["$path"]
            parts = [from_json(items[0])]
            prev = items[0]["$node"]["id"]
            for k in range(1, len(items) - 1, 2):
                r = items[k]["$rel"]
                nxt = items[k + 1]["$node"]["id"]
                d = "out" if r["start"] == prev and (r["end"] == nxt or r["start"] != nxt) else "in"
                parts.append(("dir", d, from_json(items[k])))
                parts.append(from_json(items[k + 1]))
                prev = nxt
            return ("path", tuple(parts))
        return from_json_map(v)
    raise ValueError("unexpected JSON value %r" % (v,))


def from_json_map(d):
    """A JSON object -> comparable map."""
    return ("map", tuple(sorted((k, from_json(x)) for k, x in d.items())))


def sort_lists(v):
    """Make list element order irrelevant (for 'ignoring element order for lists')."""
    if v[0] == "list":
        return ("list", tuple(sorted((sort_lists(x) for x in v[1]), key=repr)))
    if v[0] == "map":
        return ("map", tuple((k, sort_lists(x)) for k, x in v[1]))
    return v


def values_equal(a, b):
    """Compare comparable forms; floats by value (NaN equals NaN, tiny rounding allowed)."""
    if a[0] == "dir" and b[0] == "dir":
        if a[1] != b[1] and "undirected" not in (a[1], b[1]):
            return False
        return values_equal(a[2], b[2])
    if a[0] != b[0]:
        return False
    if a[0] == "float":
        x, y = a[1], b[1]
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        return x == y or math.isclose(x, y, rel_tol=1e-12)
    if a[0] in ("list", "path"):
        return len(a[1]) == len(b[1]) and all(values_equal(x, y) for x, y in zip(a[1], b[1]))
    if a[0] == "map":
        return (len(a[1]) == len(b[1]) and all(ka == kb and values_equal(x, y)
                                                for (ka, x), (kb, y) in zip(a[1], b[1])))
    if a[0] == "node":
        return a[1] == b[1] and values_equal(a[2], b[2])
    if a[0] == "rel":
        return a[1] == b[1] and values_equal(a[2], b[2])
    return a == b


def rows_equal(r1, r2):
    """Compare two rows cell by cell."""
    return len(r1) == len(r2) and all(values_equal(x, y) for x, y in zip(r1, r2))


def multiset_equal(exp, got):
    """Order-insensitive row comparison (greedy matching with value equality)."""
    if len(exp) != len(got):
        return False
    left = list(got)
    for r in exp:
        for k, g in enumerate(left):
            if rows_equal(r, g):
                del left[k]
                break
        else:
            return False
    return True


def to_json_param(v):
    """Comparable form of a TCK literal -> a JSON value for --param."""
    k = v[0]
    if k == "null":
        return None
    if k in ("bool", "int", "float", "str"):
        return v[1]
    if k == "list":
        return [to_json_param(x) for x in v[1]]
    if k == "map":
        return {a: to_json_param(b) for a, b in v[1]}
    raise ValueError("parameter of kind %s" % k)


# --------------------------------------------------------------------------
# Running

STAT_KEYS = {
    "+nodes": "nodes_created", "-nodes": "nodes_deleted",
    "+relationships": "relationships_created", "-relationships": "relationships_deleted",
    "+properties": "properties_set", "-properties": "properties_removed",
    "+labels": "labels_added", "-labels": "labels_removed",
}


class Daemon:
    """A fresh dsgraphd on an empty database in a temporary directory."""

    def __init__(self, dsgraphd):
        self.dir = tempfile.mkdtemp(prefix="tck-")
        self.sock = os.path.join(self.dir, "s")
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen([dsgraphd, "--foreground", "--socket", self.sock,
                                      "--db", os.path.join(self.dir, "db")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("dsgraphd did not start")
            time.sleep(0.002)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_query(dsctl, sock, query, params, timeout):
    """Run one query through dsctl; returns (rc, parsed JSON or None, raw text)."""
    cmd = [dsctl, "--socket", sock, "query", "--json"]
    for k, v in params.items():
        cmd += ["--param", "%s=%s" % (k, json.dumps(v))]
    cmd.append(query)
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, None, "timeout"
    out = p.stdout.decode("utf-8", "replace")
    try:
        return p.returncode, json.loads(out), out
    except ValueError:
        return p.returncode, None, out + p.stderr.decode("utf-8", "replace")


def check(sc, rc, res, raw, lenient_phase):
    """Compare one result with the scenario's expectation; returns None or a reason."""
    if res is None:
        return "unparsable output (rc %d): %s" % (rc, raw[:300])
    exp = sc.expect
    if exp[0] == "error":
        if "error" not in res:
            return "expected %s %s, got a result: %s" % (exp[1], exp[3], raw[:300])
        e = res["error"]
        if e.get("type") != exp[1] or (exp[3] != "*" and e.get("code") != exp[3]):
            return "expected error %s/%s, got %s/%s (%s)" % (exp[1], exp[3], e.get("type"),
                                                           e.get("code"), e.get("message"))
        if exp[2] and e.get("phase") != exp[2] and not lenient_phase:
            return "expected phase %s, got %s" % (exp[2], e.get("phase"))
        return None
    if "error" in res:
        e = res["error"]
        return "unexpected error %s/%s: %s" % (e.get("type"), e.get("code"), e.get("message"))
    if exp[0] == "empty":
        if res.get("rows"):
            return "expected no rows, got %s" % json.dumps(res["rows"])[:300]
    else:
        _, ordered, ignore, header, rows = exp
        if res.get("columns") != header:
            return "columns %r, expected %r" % (res.get("columns"), header)
        try:
            want = [[ValueParser(c).parse_all() for c in r] for r in rows]
        except ValueError as ex:
            return "runner cannot parse expected value: %s" % ex
        got = [[from_json(c) for c in r] for r in res.get("rows", [])]
        if ignore:
            want = [[sort_lists(c) for c in r] for r in want]
            got = [[sort_lists(c) for c in r] for r in got]
        ok = (len(want) == len(got) and all(rows_equal(a, b) for a, b in zip(want, got))) \
            if ordered else multiset_equal(want, got)
        if not ok:
            return "rows differ: expected %s, got %s" % (
                " | ".join(",".join(r) for r in rows)[:300], json.dumps(res.get("rows"))[:400])
    if sc.side_effects is not None:
        stats = res.get("stats", {})
        for k, key in STAT_KEYS.items():
            if stats.get(key, 0) != sc.side_effects.get(k, 0):
                return "side effects: %s is %s, expected %s" % (k, stats.get(key, 0),
                                                                sc.side_effects.get(k, 0))
    return None


def run_scenario(sc, args):
    """Run one scenario on its own daemon; returns (status, reason)."""
    if sc.unsupported:
        return "skip", sc.unsupported
    setup = list(sc.setup)
    if sc.graph not in ("empty", "any"):
        # a named TCK graph: its creation script from tck/graphs/<name>/<name>.cypher
        script = os.path.join(args.graphs or "", sc.graph, sc.graph + ".cypher")
        if not args.graphs or not os.path.exists(script):
            return "skip", "named graph %s (no %s)" % (sc.graph, script)
        with open(script, encoding="utf-8") as f:
            setup.insert(0, f.read())
    try:
        params = {k: to_json_param(ValueParser(v).parse_all()) for k, v in sc.params.items()}
    except ValueError as ex:
        return "skip", "parameter: %s" % ex
    d = Daemon(args.dsgraphd)
    try:
        for q in setup:
            rc, res, raw = run_query(args.dsctl, d.sock, q, {}, args.timeout)
            if res is None or "error" in res:
                return "fail", "setup query failed: %s" % raw[:300]
        for query, expect, side_effects in sc.earlier:
            step = copy.copy(sc)
            step.query, step.expect, step.side_effects = query, expect, side_effects
            rc, res, raw = run_query(args.dsctl, d.sock, query, params, args.timeout)
            reason = check(step, rc, res, raw, args.lenient_phase) if expect else None
            if reason is not None:
                return "fail", "(first query) " + reason
        rc, res, raw = run_query(args.dsctl, d.sock, sc.query, params, args.timeout)
        reason = check(sc, rc, res, raw, args.lenient_phase)
        return ("pass", None) if reason is None else ("fail", reason)
    finally:
        d.close()


def group_of(path, root):
    """Feature group (e.g. clauses/match) of a feature file."""
    rel = os.path.relpath(os.path.dirname(path), root)
    return rel if rel != "." else "-"


def main():
    """Parse arguments, collect scenarios, run them and print the summary."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", default=os.environ.get("TCK_FEATURES", "/tmp/tck"),
                    help="directory of .feature files (searched recursively)")
    ap.add_argument("--graphs", default=os.environ.get("TCK_GRAPHS"),
                    help="the TCK's tck/graphs directory, for 'Given the <name> graph' "
                         "(default: a 'graphs' directory beside --features)")
    ap.add_argument("--build-dir", default="/work/main/build-tck")
    ap.add_argument("--feature", action="append", default=[],
                    help="run only this feature (file name without .feature); repeatable")
    ap.add_argument("-k", dest="substr", help="run only scenarios whose feature/name contains this")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="parallel workers (at most 2)")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--lenient-phase", action="store_true",
                    help="accept an error raised in the other phase (compile vs runtime)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every failure's reason")
    ap.add_argument("--report", help="write a JSON list of failures to this file")
    args = ap.parse_args()
    args.jobs = max(1, min(2, args.jobs))
    if not args.graphs:
        sibling = os.path.join(os.path.dirname(os.path.abspath(args.features)), "graphs")
        args.graphs = sibling if os.path.isdir(sibling) else None
    args.dsgraphd = os.environ.get("DSGRAPHD") or os.path.join(args.build_dir, "dsgraphd")
    args.dsctl = os.environ.get("DSCTL") or os.path.join(args.build_dir, "dsctl")
    for b in (args.dsgraphd, args.dsctl):
        if not os.access(b, os.X_OK):
            sys.exit("not executable: %s (build first or set DSGRAPHD/DSCTL)" % b)

    files = []
    for dirpath, _, names in os.walk(args.features):
        files += [os.path.join(dirpath, n) for n in names if n.endswith(".feature")]
    files.sort()
    scenarios = []
    for f in files:
        feat = os.path.basename(f)[:-len(".feature")]
        if args.feature and feat not in args.feature:
            continue
        for sc in parse_feature(f):
            if args.substr and args.substr not in "%s %s" % (sc.feature, sc.name):
                continue
            scenarios.append(sc)
    if not scenarios:
        sys.exit("no scenarios found under %s" % args.features)

    lock = threading.Lock()
    results = []

    def one(sc):
        try:
            st, why = run_scenario(sc, args)
        except Exception as ex:  # a runner or daemon problem counts as a failure
            st, why = "fail", "runner: %r" % ex
        with lock:
            results.append((sc, st, why))
            if args.verbose and st == "fail":
                print("FAIL %s: %s\n     %s\n     %s" % (sc.feature, sc.name, sc.query.replace("\n", " "),
                                                        why), flush=True)

    with ThreadPoolExecutor(max_workers=args.jobs) as ex:
        list(ex.map(one, scenarios))

    per_feature, per_group = {}, {}
    for sc, st, _ in results:
        for table, key in ((per_feature, sc.feature), (per_group, group_of(sc.path, args.features))):
            t = table.setdefault(key, {"pass": 0, "fail": 0, "skip": 0})
            t[st] += 1
    print("%-28s %6s %6s %6s" % ("feature", "pass", "fail", "skip"))
    for k in sorted(per_feature):
        t = per_feature[k]
        print("%-28s %6d %6d %6d" % (k, t["pass"], t["fail"], t["skip"]))
    print()
    for k in sorted(per_group):
        t = per_group[k]
        run = t["pass"] + t["fail"]
        print("%-28s %4d/%-4d %5.1f%%" % (k, t["pass"], run, 100.0 * t["pass"] / run if run else 0))
    npass = sum(1 for _, st, _ in results if st == "pass")
    nfail = sum(1 for _, st, _ in results if st == "fail")
    nskip = sum(1 for _, st, _ in results if st == "skip")
    run = npass + nfail
    print("\nTCK: %d/%d scenarios pass (%.1f%%), %d skipped" % (npass, run, 100.0 * npass / run if run else 0,
                                                               nskip))
    if args.report:
        with open(args.report, "w") as f:
            json.dump([{"feature": sc.feature, "scenario": sc.name, "query": sc.query, "reason": why}
                       for sc, st, why in results if st == "fail"], f, indent=1)
    print("%d passed, %d failed" % (npass, nfail))
    return 0 if nfail == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
