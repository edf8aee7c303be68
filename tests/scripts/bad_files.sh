#!/usr/bin/env bash
# Bad-file battery: feeds truncated, empty, wrong-magic, NaN-containing, mismatched-size, non-UTF-8-named and
# permission-denied files to every otcs command that reads files (ot, assign, sdot, metrics, run, gen-train,
# aot-compare, dpmot, translate; bench and version read none), and checks that each one exits with status 2,
# prints exactly one line on stderr that names the file, and leaves nothing in its --out location.
#   tests/scripts/bad_files.sh OTCS_BINARY PROJECT.json [WORK_DIR]     (PROJECT: a small generated-data project)
set -uo pipefail
otcs="$(realpath "$1")"
export OTCS_PROJECT="$(realpath "$2")"
work="${3:-$(mktemp -d)}"
rm -rf "$work" && mkdir -p "$work/in" && cd "$work" || exit 1
export OTCS_CACHE_DIR="$work/cache"

# ---- inputs ---------------------------------------------------------------------------------------- good ones
/usr/bin/python3 - <<'PY' || { echo "bad_files: python3 with numpy is needed to write the inputs" >&2; exit 1; }
import numpy as np, os
rng = np.random.default_rng(0)
good = rng.normal(size=(20, 2))
np.save("in/good.npy", good)
np.savetxt("in/good.csv", good, delimiter=",")
np.save("in/cost.npy", rng.random((6, 6)))
np.save("in/img.npy", rng.random((16, 16)) * 255)
np.save("in/big.npy", rng.normal(size=(70000, 2)))  # 1.1 MB: more than a 1 MB memory budget
# NaN / Inf
nan = good.copy(); nan[3, 1] = np.nan; np.save("in/nan.npy", nan)
np.save("in/nan_cost.npy", np.where(np.eye(6) > 0, np.nan, rng.random((6, 6))))
img = rng.random((16, 16)) * 255; img[2, 2] = np.inf; np.save("in/inf_img.npy", img)
with open("in/nan.csv", "w") as f: f.write("1,2\n3,nan\n")
# truncated: a valid header, half the data
b = open("in/good.npy", "rb").read(); open("in/truncated.npy", "wb").write(b[: len(b) - 100])
b = open("in/cost.npy", "rb").read(); open("in/truncated_cost.npy", "wb").write(b[: len(b) - 8])
# mismatched size: header says (20, 2), data for 19 rows + 3 values; and a ragged CSV
open("in/mismatch.npy", "wb").write(open("in/good.npy", "rb").read()[:-5])
with open("in/ragged.csv", "w") as f: f.write("1,2\n3,4,5\n")
np.save("in/wrong_dims.npy", rng.random((4, 3, 2)))
np.save("in/nonsquare_img.npy", rng.random((17, 16)) * 255)
# wrong magic
for n in ["wrong_magic.npy", "wrong_magic.csv", "wrong_magic.json", "wrong_magic.png"]:
    open("in/" + n, "wb").write(b"\x00\x01GIF89a not what it claims to be\xff\xfe")
open("in/empty.npy", "wb").close(); open("in/empty.csv", "wb").close(); open("in/empty.json", "wb").close()
open("in/truncated.json", "w").write(open(os.environ["OTCS_PROJECT"]).read()[:200])
open("in/nan.json", "w").write('{"schema_version": 1, "name": NaN}')
open("in/huge_number.json", "w").write('{"schema_version": 1e99999, "name": "x"}')
# a project with a file source (the test replaces FILE)
import json
p = json.load(open(os.environ["OTCS_PROJECT"]))
p["data"]["source"] = {"file": "FILE"}
p["data"].pop("keypoints", None)
open("in/project.json", "w").write(json.dumps(p, indent=1))
# a non-UTF-8 file name (Latin-1 "é"), truncated content
os.rename("in/truncated_cost.npy", b"in/co\xe9t.npy".decode("utf-8", "surrogateescape"))
PY
cp in/nan.npy "in/denied.npy" && chmod 000 in/denied.npy
bad_name=$'in/co\xe9t.npy'

fails=0 cases=0
# check NAME FILE -- command...: status 2, one stderr line naming FILE, nothing left in out/
check() {
  local label="$1" file="$2"; shift 2
  cases=$((cases + 1))
  rm -rf out && mkdir out
  "$@" >stdout.txt 2>stderr.txt </dev/null
  local rc=$? problems=()
  [ "$rc" -eq 2 ] || problems+=("exit status $rc, expected 2")
  local lines; lines=$(grep -c '' stderr.txt)
  [ "$lines" -eq 1 ] || problems+=("$lines stderr lines, expected 1")
  grep -qF -- "$(basename -- "$file")" stderr.txt || problems+=("stderr does not name $file")
  local left; left=$(find out -mindepth 1 | head -5 | tr '\n' ' ')
  [ -z "$left" ] || problems+=("left behind: $left")
  if ((${#problems[@]})); then
    fails=$((fails + 1))
    printf 'FAIL %s: %s\n     stderr: %s\n' "$label" "$(IFS=';'; echo "${problems[*]}")" "$(head -c 300 stderr.txt | tr '\n' '|')"
  else
    printf 'ok   %s: %s\n' "$label" "$(head -c 160 stderr.txt)"
  fi
}

denied_ok=1
if [ "$(id -u)" -eq 0 ]; then
  echo "skip permission-denied cases: running as root (root reads mode-000 files)"
  denied_ok=0
fi

ot() { "$otcs" ot --epsilon 0.1 --threads 1 "$@"; }
for f in in/empty.npy in/truncated.npy in/wrong_magic.npy in/nan.npy in/mismatch.npy in/wrong_dims.npy \
         "$bad_name" in/empty.csv in/wrong_magic.csv in/nan.csv in/ragged.csv in/denied.npy; do
  [ "$f" = in/denied.npy ] && [ $denied_ok -eq 0 ] && continue
  check "ot --source $f" "$f" ot --source "$f" --target in/good.npy --out out/ot
  check "ot --target $f" "$f" ot --source in/good.npy --target "$f" --out out/ot
done
for f in in/empty.csv in/wrong_magic.csv in/ragged.csv in/nan.csv; do
  check "ot --keypoints $f" "$f" ot --source in/good.npy --target in/good.npy --keypoints "$f" --out out/ot
done
for f in in/empty.npy in/truncated.npy in/wrong_magic.npy in/nan_cost.npy in/mismatch.npy in/wrong_dims.npy \
         "$bad_name" in/denied.npy; do
  [ "$f" = in/denied.npy ] && [ $denied_ok -eq 0 ] && continue
  check "assign $f" "$f" "$otcs" assign "$f" --out out/perm.npy
  check "sdot --target $f" "$f" "$otcs" sdot --target "$f" --max-iter 5 --out out/sdot
done
for f in in/empty.npy in/truncated.npy in/wrong_magic.npy in/wrong_magic.png in/inf_img.npy in/mismatch.npy \
         in/nonsquare_img.npy "$bad_name" in/denied.npy; do
  [ "$f" = in/denied.npy ] && [ $denied_ok -eq 0 ] && continue
  check "metrics ssim $f" "$f" "$otcs" metrics ssim in/img.npy "$f"
  check "metrics psnr $f" "$f" "$otcs" metrics psnr "$f" in/img.npy
done
for f in in/empty.json in/wrong_magic.json in/truncated.json in/nan.json in/huge_number.json in/denied.npy; do
  [ "$f" = in/denied.npy ] && [ $denied_ok -eq 0 ] && continue
  check "run $f" "$f" "$otcs" run "$f" --out out/run --threads 1
done
# a project whose data file is bad: the run must fail before it writes anything
# (JSON text is UTF-8, so a project cannot name the non-UTF-8 file)
for f in in/empty.npy in/truncated.npy in/wrong_magic.npy in/nan.npy in/mismatch.npy in/ragged.csv; do
  name=$(basename -- "$f")
  sed "s|\"FILE\"|\"$name\"|" in/project.json >"in/p_$name.json"
  check "run (source file $f)" "$f" "$otcs" run "in/p_$name.json" --out out/run --threads 1
done

# larger than the memory available (OTCS_MEMORY_LIMIT_MB stands in for a small machine): refused with a sentence
check "ot --source in/big.npy (1 MB memory budget)" "in/big.npy" env OTCS_MEMORY_LIMIT_MB=1 "$otcs" ot --epsilon 0.1 \
  --threads 1 --source in/big.npy --target in/good.npy --out out/ot
check "assign in/big.npy (1 MB memory budget)" "in/big.npy" env OTCS_MEMORY_LIMIT_MB=1 "$otcs" assign in/big.npy --out out/perm.npy
# the generation commands: a bad project file
for f in in/empty.json in/wrong_magic.json in/truncated.json in/nan.json in/huge_number.json; do
  check "gen-train $f" "$f" "$otcs" gen-train "$f" --out out/gen --threads 1
  check "aot-compare $f" "$f" "$otcs" aot-compare "$f" --out out/cmp --threads 1
done
# dpmot on a run directory without a readable train.json; translate on a run whose project or model is bad
mkdir -p in/genrun
check "dpmot (no train.json)" "train.json" "$otcs" dpmot --run in/genrun --M 3 --out out/dpmot
for f in in/empty.json in/wrong_magic.json; do
  cp "$f" in/genrun/train.json
  check "dpmot (train.json = $f)" "train.json" "$otcs" dpmot --run in/genrun --M 3 --out out/dpmot
done
mkdir -p in/imgrun/score
check "translate (no project.json)" "imgrun" "$otcs" translate --run in/imgrun --input in/x-idx3-ubyte --out out/tr
cp in/wrong_magic.npy in/imgrun/score/model.pt  # the project is read before the model
for f in in/empty.json in/wrong_magic.json in/truncated.json; do
  cp "$f" in/imgrun/project.json
  check "translate (project.json = $f)" "project.json" "$otcs" translate --run in/imgrun --input in/x-idx3-ubyte --out out/tr
done
cat >in/imgrun/project.json <<'JSON'
{"schema_version": 1, "name": "img", "data": {"source": {"images": {"format": "idx", "images": "x-idx3-ubyte"}},
 "target": {"images": {"format": "idx", "images": "y-idx3-ubyte"}}}}
JSON
for f in in/empty.npy in/wrong_magic.npy in/truncated.npy; do
  cp "$f" in/imgrun/score/model.pt
  check "translate (score/model.pt = $f)" "model.pt" "$otcs" translate --run in/imgrun --input in/x-idx3-ubyte --out out/tr
done
printf 'PK\x03\x04 a torn zip' >in/imgrun/score/model.pt
check "translate (score/model.pt torn zip)" "model.pt" "$otcs" translate --run in/imgrun --input in/x-idx3-ubyte --out out/tr

echo "bad_files: $cases cases, $fails failed"
[ "$fails" -eq 0 ]
