#!/usr/bin/env bash
# Runs every script the README documents (besides `npm run up` / `npm run check`, which CI runs on their own) on the
# current checkout at tiny sizes, and fails when one exits non-zero or, for those that promise it, does not end with a
# JSON line. Run after `npm run check` (which installs, builds, lints and typechecks); `.ci/run` calls it. The first
# benchmark builds what it needs itself (as on a clean clone), the others reuse that build (MC_SKIP_BUILD=1).
# `eval:memory` needs `../shared/data/locomo`: only its clear failure without the data is checked. ~2-3 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# step NAME EXPECT_JSON COMMAND...: runs COMMAND, keeps its output in $tmp/NAME.log, checks exit code and last line
step() {
  local name=$1 json=$2
  shift 2
  local t0=$(date +%s) rc=0
  "$@" >"$tmp/$name.log" 2>&1 || rc=$?
  local last
  last=$(grep -v '^\s*$' "$tmp/$name.log" | tail -n 1 || true)
  if [ "$rc" -ne 0 ]; then
    echo "[smoke] FAIL $name (exit $rc); last lines:"; tail -n 30 "$tmp/$name.log"; failures=$((failures + 1))
  elif [ "$json" = json ] && ! node -e 'JSON.parse(process.argv[1])' "$last" 2>/dev/null; then
    echo "[smoke] FAIL $name: last line is not JSON: $last"; failures=$((failures + 1))
  else
    printf '[smoke] ok   %-16s %4ss\n' "$name" "$(( $(date +%s) - t0 ))"
  fi
}

step build plain pnpm build
step agent-help plain bash -c 'pnpm agent --help | grep -q -- "--capabilities"'
step bench:feed json env BENCH_DURATION_S=1 BENCH_INGEST_EVENTS=2000 BENCH_RATES=1:200,20:100 pnpm bench:feed
step bench:feed-saturation json env MC_SKIP_BUILD=1 BENCH_SAT_N=20 BENCH_SAT_STEP_S=1 pnpm bench:feed --saturation
step bench:feed-instances json env MC_SKIP_BUILD=1 BENCH_INST_N=12 BENCH_INST_RATE=200 BENCH_INST_DURATION_S=2 pnpm bench:feed --instances 3
step bench:router json env MC_SKIP_BUILD=1 BENCH_SEQ=20 BENCH_ROUNDS=1 BENCH_CONC=20 BENCH_CONC_ROUNDS=1 BENCH_OUTAGE_S=2 pnpm bench:router
step bench:memory json env MC_SKIP_BUILD=1 BENCH_MEMORY_ENTRIES=2000 pnpm bench:memory
step bench:ledger json env MC_SKIP_BUILD=1 BENCH_LEDGER_TRANSFERS=500 BENCH_LEDGER_INFLIGHT=100 BENCH_LEDGER_SEED=5000 BENCH_LEDGER_READS=200 BENCH_LEDGER_EXPORT_ROWS=3000 BENCH_LEDGER_PAYMENTS=100 pnpm bench:ledger
step bench:upgrades json env MC_SKIP_BUILD=1 BENCH_FILES=200 BENCH_SEQUENTIAL=2 BENCH_BURST=3 pnpm bench:upgrades
step fuzz json env FUZZ_RUNS=1000 FUZZ_SEED=20261202 FUZZ_DBS=sqlite pnpm fuzz
# events:verify on a fresh SQLite file the built server has written to (boot events, hash chain from seq 1)
step events:verify plain bash -c "
  port=\$(node -e 'const s=require(\"net\").createServer().listen(0,()=>{console.log(s.address().port);s.close()})')
  HOST=127.0.0.1 PORT=\$port SQLITE_PATH='$tmp/verify.db' ADMIN_PASSWORD=smoke-admin-pass WEB_DIST= node apps/api/dist/main.js >'$tmp/server.log' 2>&1 &
  pid=\$!; up=0
  for i in \$(seq 1 240); do curl -sf http://127.0.0.1:\$port/api/health >/dev/null && { up=1; break; }; sleep 0.25; done
  kill \$pid; wait \$pid 2>/dev/null || true
  [ \$up = 1 ] || { echo 'server did not answer /api/health'; cat '$tmp/server.log'; exit 1; }
  SQLITE_PATH='$tmp/verify.db' pnpm events:verify"
# eval:memory without the LoCoMo data must say what is missing (exit non-zero, names the file), not crash
step eval:memory-missing plain bash -c 'out=$(LOCOMO_PATH=/nonexistent/locomo-dev.json pnpm eval:memory 2>&1) && exit 1; echo "$out" | grep -q "LoCoMo file not found"'

echo "[smoke] documented scripts: $failures failed ($(( $(date +%s) - started )) s)"
[ "$failures" -eq 0 ]
