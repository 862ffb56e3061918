#!/usr/bin/env python3
"""Temporal arithmetic at the edges of 64 bits and of the years allowed, against a
real dsgraphd (under the sanitizers in `make test`): a seeded stream of random
constructions, sums, products, fields, between() and truncate() of extreme values.
Every query must get a result or a typed error, the daemon must stay up, and the
harness fails the test on any sanitizer report (integer overflow is undefined
behaviour in C; this is how the first ones were found).

Env (set by ctest): DSGRAPHD, DSCTL. Uses the dsgtest harness.
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import Daemon, check, eq, run_all, test  # noqa: E402

EDGES = [0, 1, -1, 2**31, -2**31, 2**62, -2**62, 2**63 - 1, -2**63, 999999999, -999999999, 86400, 10**18, -10**18]
UNITS = ["years", "months", "weeks", "days", "hours", "minutes", "seconds", "milliseconds", "microseconds",
         "nanoseconds"]
INSTANTS = ["date('2015-07-21')", "localtime('12:00')", "time('12:00+01:00')", "localdatetime('2015-07-21T12:00')",
            "datetime('2017-10-29T02:30[Europe/Stockholm]')", "date('+999999999-12-31')", "date('-999999999-01-01')",
            "datetime('+999999999-12-31T23:59:59.999999999Z')", "localdatetime('-999999999-01-01T00:00')"]
FIELDS = ["years", "months", "days", "seconds", "milliseconds", "microseconds", "nanoseconds", "hours", "minutes",
          "epochMillis", "epochSeconds", "year", "week", "weekYear", "dayOfWeek", "offsetSeconds", "ordinalDay"]
ERRORS = {"ArgumentError", "ArithmeticError", "TypeError"}


def expression(r):
    def num():
        return str(r.choice(EDGES + [r.randint(-10**6, 10**6)]))

    def frac():
        return r.choice(["0.5", "-1.5", "1e18", "-1e18", "1e300", "3.3"])

    def dur():
        keys = r.sample(UNITS, r.randint(1, 3))
        return "duration({%s})" % ", ".join("%s: %s" % (k, num() if r.random() < .8 else frac()) for k in keys)

    x = r.random()
    if x < .25:
        return "%s %s %s" % (r.choice(INSTANTS), r.choice("+-"), dur())
    if x < .45:
        return "%s %s %s" % (dur(), r.choice("+-"), dur())
    if x < .6:
        return "%s %s %s" % (dur(), r.choice("*/"), r.choice([num(), frac()]))
    if x < .75:
        return "(%s).%s" % (r.choice([dur()] + INSTANTS), r.choice(FIELDS))
    if x < .85:
        return "duration.%s(%s, %s)" % (r.choice(["between", "inMonths", "inDays", "inSeconds"]), r.choice(INSTANTS),
                                        r.choice(INSTANTS))
    if x < .93:
        return "datetime.fromepoch(%s, %d)" % (num(), int(num()) % 1000000000)
    return "%s.truncate('%s', %s)" % (r.choice(["date", "datetime", "localdatetime"]),
                                      r.choice(["millennium", "weekYear", "week", "day", "hour"]), r.choice(INSTANTS))


@test(timeout=300)
def extremes_give_results_or_typed_errors():
    d = Daemon().start()
    r = random.Random(20261129)
    results = errors = 0
    with d.client() as c:
        for _ in range(1500):
            q = "RETURN %s AS x" % expression(r)
            res, err = c.call("query", {"query": q})
            if err is None:
                check(isinstance(res, dict) and len(res.get("rows", [])) == 1, "%s: %r" % (q, res))
                results += 1
            else:
                kind = (err.get("data") or {}).get("type")
                check(kind in ERRORS, "%s: unexpected error %r" % (q, err))
                errors += 1
        eq(c.ok("ping").get("version") is not None, True, "the daemon still answers")
    # both kinds occur, so the stream tests the edges and not only the errors
    check(results > 300 and errors > 300, "results %d, errors %d" % (results, errors))


if __name__ == "__main__":
    run_all()
