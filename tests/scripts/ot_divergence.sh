#!/usr/bin/env bash
# Numerical safety: an absurd learning rate makes the OT dual (stochastic solver) and the score training produce
# NaN/Inf; each stage must stop with exit status 1 and one clear message that names the remedy, write no
# finished artifacts (u.npy, done.json / model.pt), and a later run with a sane lr must still succeed.
#   tests/scripts/ot_divergence.sh OTCS_BINARY PROJECT.json [WORK_DIR]
set -uo pipefail
otcs="$(realpath "$1")"
project_in="$(realpath "$2")"
work="${3:-$(mktemp -d)}"
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
py=/usr/bin/python3
"$py" - "$project_in" <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1]))
ot = p["stages"]["ot"]
ot.update(solver="tabular", iterations=300, checkpoint_every=100, batch=64, epsilon=0.05)
bad = json.loads(json.dumps(p)); bad["stages"]["ot"]["lr"] = 1e30
open("ot_bad.json", "w").write(json.dumps(bad, indent=1))
ok = json.loads(json.dumps(p)); ok["stages"]["ot"]["lr"] = 0.05
open("ot_ok.json", "w").write(json.dumps(ok, indent=1))
sc = json.loads(json.dumps(ok)); sc["stages"]["score"]["lr"] = 1e30; sc["stages"]["score"]["grad_clip"] = 1e30
open("score_bad.json", "w").write(json.dumps(sc, indent=1))
PY
fails=0
expect() {  # expect LABEL RC_WANTED PATTERN -- command
  local label="$1" want="$2" pattern="$3"; shift 3
  "$@" >out.txt 2>err.txt </dev/null
  local rc=$?
  local line; line=$(grep -E "otcs: (internal )?error" err.txt | head -1)
  if [ "$rc" -ne "$want" ] || ! grep -qE -- "$pattern" <<<"$line"; then
    fails=$((fails + 1)); echo "FAIL $label: exit $rc (want $want); error line: $line"; tail -5 err.txt
  else
    echo "ok   $label: exit $rc: $line"
  fi
}
expect "ot diverges" 1 "ot: the dual diverged .*lower /stages/ot/lr or raise /stages/ot/epsilon" \
  "$otcs" run ot_bad.json --out run_bad --until ot --threads 1
for f in run_bad/ot/u.npy run_bad/ot/done.json; do
  [ ! -e "$f" ] || { fails=$((fails + 1)); echo "FAIL: $f was written by a diverged run"; }
done
if [ -e run_bad/ot/checkpoint.pt ]; then
  "$py" -c "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); sys.exit(1 if z.testzip() else 0)" run_bad/ot/checkpoint.pt ||
    { fails=$((fails + 1)); echo "FAIL: the kept OT checkpoint is not readable"; }
fi
expect "score diverges" 1 "score: training diverged .*lower /stages/score/lr" \
  "$otcs" run score_bad.json --out run_score --until score --threads 1 --steps-scale 0.2
[ ! -e run_score/score/model.pt ] || { fails=$((fails + 1)); echo "FAIL: model.pt written by a diverged run"; }
expect "ot sane lr" 0 "^$" "$otcs" run ot_ok.json --out run_ok --until ot --threads 1
echo "ot_divergence: $fails failures"
[ $fails -eq 0 ]
