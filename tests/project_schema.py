#!/usr/bin/env python3
"""Holds resources/project.schema.json against the project files and against the project reader.

  1. The schema is a valid JSON Schema (draft 2020-12).
  2. Every projects/*.json and tests/project_variants/*.json validates, names the schema under "$schema", and
     fails once an unknown key is added at the top level or inside any of its objects (the reader rejects
     unknown keys everywhere).
  3. For every object kind, the schema's $defs[kind] lists exactly the keys that `otcs project-keys` (the list the
     reader checks every key it reads against) prints, and rejects other keys; every object $def is such a kind.
  4. Loading those files makes the reader ask for every key of that list (`otcs project-keys FILE...` prints
     none unread), so the list holds no key the reader would reject.

usage: project_schema.py SCHEMA PROJECTS_DIR VARIANTS_DIR OTCS_BINARY
"""
import copy
import json
import pathlib
import subprocess
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("project_schema: the Python module jsonschema is missing (Debian: python3-jsonschema; scripts/setup "
             "installs it)")

UNKNOWN = "no_such_key"


def objects(value, pointer=""):
    """Every JSON object inside value, with its JSON pointer, the outermost first."""
    if isinstance(value, dict):
        yield pointer, value
        for key, child in value.items():
            yield from objects(child, f"{pointer}/{key}")
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from objects(child, f"{pointer}/{i}")


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    schema_path, otcs = pathlib.Path(sys.argv[1]), sys.argv[4]
    projects = sorted(pathlib.Path(sys.argv[2]).glob("*.json")) + sorted(pathlib.Path(sys.argv[3]).glob("*.json"))
    schema = json.loads(schema_path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failures = []

    if not projects:
        failures.append(f"no project files in {sys.argv[2]} and {sys.argv[3]}")
    for path in projects:
        project = json.loads(path.read_text())
        for error in validator.iter_errors(project):
            failures.append(f"{path.name}: {error.json_path}: {error.message}")
        named = (path.parent / project.get("$schema", "")).resolve()
        if named != schema_path.resolve():
            failures.append(f"{path.name}: \"$schema\" does not name {schema_path}")
        for pointer, _ in list(objects(project)):
            broken = copy.deepcopy(project)
            target = broken
            for part in filter(None, pointer.split("/")):
                target = target[int(part)] if isinstance(target, list) else target[part]
            target[UNKNOWN] = 1
            if validator.is_valid(broken):
                failures.append(f"{path.name}: the schema accepts the unknown key {pointer}/{UNKNOWN}")

    run = subprocess.run([otcs, "project-keys"], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        sys.exit(f"project_schema: {otcs} project-keys failed ({run.returncode}): {run.stderr.strip()}")
    reader_keys = json.loads(run.stdout)
    defs = schema.get("$defs", {})
    for kind, keys in sorted(reader_keys.items()):
        d = defs.get(kind)
        if d is None:
            failures.append(f"$defs/{kind}: missing (the reader reads objects of this kind)")
            continue
        in_schema = set(d.get("properties", {}))
        for key in sorted(set(keys) - in_schema):
            failures.append(f"$defs/{kind}: the reader accepts \"{key}\", the schema does not list it")
        for key in sorted(in_schema - set(keys)):
            failures.append(f"$defs/{kind}: the schema lists \"{key}\", the reader rejects it")
        if d.get("additionalProperties") is not False:
            failures.append(f"$defs/{kind}: needs \"additionalProperties\": false (the reader rejects unknown keys)")
    for kind, d in sorted(defs.items()):
        if d.get("type") == "object" and kind not in reader_keys:
            failures.append(f"$defs/{kind}: an object kind the reader does not know (otcs project-keys)")

    run = subprocess.run([otcs, "project-keys", *map(str, projects)], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        sys.exit(f"project_schema: {otcs} project-keys FILE... failed ({run.returncode}): {run.stderr.strip()}")
    for kind, keys in sorted(json.loads(run.stdout).items()):
        failures.append(f"{kind}: loading the project files never asked for {', '.join(keys)}: a key the reader "
                        "does not read (drop it from project_keys()), or a variant no file covers (add one to "
                        "tests/project_variants/)")

    for line in failures:
        print("project_schema:", line)
    if failures:
        sys.exit(1)
    print(f"project_schema: {len(projects)} project files valid, unknown keys rejected, "
          f"{len(reader_keys)} object kinds match the reader, every listed key read")


if __name__ == "__main__":
    main()
