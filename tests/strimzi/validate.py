"""Checks Kubernetes documents against Strimzi's CRDs.

Usage: validate.py CRD_DIR FILE...
Every document of every FILE (YAML, several per file) must name a kind and apiVersion one of
the CRDs in CRD_DIR serves, and its body must validate against that version's
openAPIV3Schema. Prints one line per document; exits 1 when any fails.
"""
import sys
from pathlib import Path

import jsonschema
import yaml


def schemas(crd_dir):
    """(apiVersion, kind) -> schema of every served version of every CRD in crd_dir."""
    found = {}
    for path in sorted(Path(crd_dir).glob("*Crd*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served"):
                api = f"{group}/{version['name']}"
                found[(api, kind)] = version["schema"]["openAPIV3Schema"]
    return found


def check(document, known):
    """What is wrong with one document, or None."""
    key = (document.get("apiVersion"), document.get("kind"))
    if key not in known:
        return f"no served CRD for {key[0]} {key[1]}"
    if not document.get("metadata", {}).get("name"):
        return "metadata.name is missing"
    validator = jsonschema.Draft4Validator(known[key])
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    if errors:
        return "; ".join(f"{'/'.join(map(str, e.path)) or '.'}: {e.message}" for e in errors)
    return None


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    known = schemas(argv[1])
    if not known:
        print(f"no CRDs in {argv[1]}", file=sys.stderr)
        return 2
    failed = 0
    for file in argv[2:]:
        for n, document in enumerate(yaml.safe_load_all(Path(file).read_text())):
            if document is None:
                continue
            name = f"{file}#{n} {document.get('kind')}/{document.get('metadata', {}).get('name')}"
            problem = check(document, known)
            print(f"{'FAIL' if problem else 'ok'}   {name}{': ' + problem if problem else ''}")
            failed += problem is not None
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
