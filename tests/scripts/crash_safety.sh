#!/usr/bin/env bash
# Crash safety: runs `otcs run` on a small project and kills it with SIGKILL at random moments -- a third of the
# kills aimed at the moment a checkpoint or artifact temporary file appears -- KILLS times in a row (default 50),
# resuming each time. After every kill, every artifact and checkpoint present must be complete and loadable
# (.npy/.npz parsed, .pt archives' zip CRCs checked, JSON parsed), and the project file must be unchanged; at
# the end an uninterrupted resume must complete the run.
#   tests/scripts/crash_safety.sh OTCS_BINARY PROJECT.json [KILLS] [WORK_DIR]
set -uo pipefail
otcs="$(realpath "$1")"
project_in="$(realpath "$2")"
kills_wanted="${3:-50}"
work="${4:-$(mktemp -d)}"
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
py=/usr/bin/python3

# The project, with checkpoints every 100 score steps so that kills often land in a checkpoint write.
"$py" - "$project_in" project.json <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1]))
p["name"] = "crash-safety"
p["stages"]["score"]["checkpoint_every"] = 100
p["stages"]["score"]["keep_checkpoints"] = 2
open(sys.argv[2], "w").write(json.dumps(p, indent=1) + "\n")
PY
project_sum=$(sha256sum project.json | cut -d' ' -f1)

cat >verify.py <<'PY'
# Every finished file in the run must be complete: parse it, or check its zip CRCs. Temporary files of a killed
# writer (.NAME.tmp-PID) are not artifacts; they are counted and reported.
import json, os, sys, zipfile
import numpy as np
run, bad, tmp, n = sys.argv[1], [], 0, 0
for root, _, files in os.walk(run):
    for f in files:
        p = os.path.join(root, f)
        if ".tmp" in f:
            tmp += 1
            continue
        n += 1
        try:
            if f.endswith(".npy"):
                np.load(p, allow_pickle=False)
            elif f.endswith(".npz") or f.endswith(".pt"):
                with zipfile.ZipFile(p) as z:
                    broken = z.testzip()
                    if broken: raise ValueError("CRC error in " + broken)
                if f.endswith(".npz"):
                    dict(np.load(p, allow_pickle=False))
            elif f.endswith(".json"):
                json.load(open(p))
        except Exception as e:
            bad.append(f"{p}: {e}")
for b in bad: print("TORN", b)
print(f"checked {n} files, {tmp} temporary files of killed writers")
sys.exit(1 if bad else 0)
PY

RANDOM=$$
kills=0 attempts=0 finished_early=0 aimed=0 torn=0 completed=0
t0=$(date +%s)
while [ $kills -lt "$kills_wanted" ]; do
  attempts=$((attempts + 1))
  stale=$(compgen -G "run/*/.*.tmp*" | sort)
  "$otcs" run project.json --out run --no-figures --threads 1 --log-level warn >>runs.log 2>&1 &
  pid=$!
  if [ $((attempts % 3)) -eq 0 ]; then
    # aim: kill as soon as a new temporary file shows up (a write in flight), else after 5 s
    deadline=$((SECONDS + 5))
    while kill -0 $pid 2>/dev/null && [ $SECONDS -lt $deadline ]; do
      if [ "$(compgen -G "run/*/.*.tmp*" | sort)" != "$stale" ]; then aimed=$((aimed + 1)); break; fi
      sleep 0.01
    done
  else
    sleep "$(printf '0.%03d' $((RANDOM % 1000)))"
    sleep $((RANDOM % 3))
  fi
  if kill -9 $pid 2>/dev/null; then
    kills=$((kills + 1))
  else
    finished_early=$((finished_early + 1))
  fi
  wait $pid 2>/dev/null
  echo "kill $kills (attempt $attempts) at $(( $(date +%s) - t0 )) s"
  if ! "$py" verify.py run >verify.log 2>&1; then
    torn=$((torn + 1))
    echo "crash_safety: after kill $kills:"; cat verify.log
  fi
  if [ "$(sha256sum project.json | cut -d' ' -f1)" != "$project_sum" ]; then
    echo "crash_safety: FAIL: the project file changed after kill $kills"; exit 1
  fi
  if [ -f run/eval/done.json ]; then
    # the run completed between kills: start it over so that the remaining kills hit real work again
    completed=$((completed + 1))
    rm -rf run
  fi
done
"$otcs" run project.json --out run --no-figures --threads 1 --log-level warn >final.log 2>&1
rc=$?
"$py" verify.py run >verify.log 2>&1 || torn=$((torn + 1))
cat verify.log
same_project=yes
cmp -s project.json run/project.json || same_project="no (run/project.json differs)"
[ "$(sha256sum project.json | cut -d' ' -f1)" = "$project_sum" ] || same_project=no
echo "crash_safety: $kills kills injected ($aimed aimed at a temporary file in flight) in $attempts attempts" \
     "($completed complete runs between kills)," \
     "$(( $(date +%s) - t0 )) s; final run exit $rc; runs with torn files: $torn; project unchanged: $same_project"
grep -h "error" runs.log final.log | sort | uniq -c | head -5
[ $rc -eq 0 ] && [ $torn -eq 0 ] && [ "$same_project" = yes ] && [ -f run/eval/done.json ]
