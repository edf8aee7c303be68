#!/usr/bin/env python3
"""Holds resources/project.schema.json against the project files and against the project reader.

  1. The schema is a valid JSON Schema (draft 2020-12).
  2. Every projects/*.json validates, names the schema under "$schema", and fails once an unknown key is added
     at the top level or inside any of its objects (the reader rejects unknown keys everywhere).
  3. For every object kind, the schema's $defs[kind] lists exactly the keys that `otcs project-keys` (the list the
     reader checks every key against) prints, and rejects other keys; every object $def is such a kind.

usage: project_schema.py SCHEMA PROJECTS_DIR OTCS_BINARY
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
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    schema_path, projects_dir, otcs = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
    schema = json.loads(schema_path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failures = []

    projects = sorted(projects_dir.glob("*.json"))
    if not projects:
        failures.append(f"no project files in {projects_dir}")
    for path in projects:
        project = json.loads(path.read_text())
        for error in validator.iter_errors(project):
            failures.append(f"{path.name}: {error.json_path}: {error.message}")
        named = (path.parent / project.get("$schema", "")).resolve()
        if named != schema_path.resolve():
            failures.append(f"{path.name}: \"$schema\" should be \"../resources/project.schema.json\"")
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

    for line in failures:
        print("project_schema:", line)
    if failures:
        sys.exit(1)
    print(f"project_schema: {len(projects)} project files valid, unknown keys rejected, "
          f"{len(reader_keys)} object kinds match the reader")


if __name__ == "__main__":
    main()
