# metrics: the example alert rules pass promtool check rules, and fire (only) when they should on the series the daemon writes
# SPDX-License-Identifier: GPL-2.0
# (promtool from Debian's prometheus package, extracted by scripts/setup;
# the text format itself: tests/unit/test_metrics.c)
cd "$(dirname "$0")/../.."
. tests/cli/lib.sh

promtool=${PROMTOOL:-build/tools/promtool}
[ -x "$promtool" ] || fail "$promtool missing (run scripts/setup)"
expect_rc 0 "$promtool" check rules dist/prometheus/patchlayer.rules.yml
expect_match "$out" "SUCCESS: 6 rules found" "promtool check rules"
expect_rc 0 "$promtool" test rules tests/cli/metrics-rules.test.yml
expect_match "$out" "SUCCESS" "promtool test rules"
echo "ok - alert rules"
